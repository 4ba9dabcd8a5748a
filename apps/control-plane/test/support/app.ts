import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Browser, chromium } from 'playwright-core';

import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { loadFleetConfig } from '../../src/config/fleet-config';
import { loadSettings, Settings } from '../../src/config/settings';
import { FakeExoscale, TEST_KEY, TEST_SECRET } from './fake-exoscale';

export interface TestApp {
  app: NestExpressApplication;
  settings: Settings;
  sdFile: string;
}

/** The real AppModule, configured as main.ts does, against the fake API; the settings come from a test environment. */
export async function startApp(fake: FakeExoscale, env: Record<string, string> = {}): Promise<TestApp> {
  const dir = await mkdtemp(join(tmpdir(), 'cp-e2e-'));
  const sdFile = join(dir, 'sd', 'config.json');
  const settings = loadSettings({
    EXOSCALE_KEY: TEST_KEY,
    EXOSCALE_SECRET: TEST_SECRET,
    EXOSCALE_INSTANCEPOOL_ID: fake.poolId,
    EXOSCALE_API_ENDPOINT: fake.endpoint,
    SD_FILE: sdFile,
    STATE_DIR: join(dir, 'state'),
    DISCOVERY_INTERVAL_SECONDS: '1',
    SCALING_INTERVAL_SECONDS: '3600',
    POOL_MIN_SIZE: '1',
    POOL_MAX_SIZE: '3',
    ...env,
  });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forSettings(settings)] }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false });
  configureApp(app, settings);
  await app.init();
  return { app, settings, sdFile };
}

/**
 * The real AppModule from the pools file `<dir>/pools.yaml` (loadFleetConfig, as main.ts builds it) against the fake
 * API, its files in `dir`, ticking only when asked (step policy); `extra` overrides or adds settings.
 */
export async function startFleetApp(
  fake: { endpoint: string },
  dir: string,
  extra: Record<string, string> = {},
): Promise<NestExpressApplication> {
  const fleet = loadFleetConfig({
    EXOSCALE_KEY: TEST_KEY,
    EXOSCALE_SECRET: TEST_SECRET,
    EXOSCALE_API_ENDPOINT: fake.endpoint,
    POOLS_FILE: join(dir, 'pools.yaml'),
    SD_FILE: join(dir, 'sd', 'config.json'),
    STATE_DIR: join(dir, 'state'),
    DISCOVERY_INTERVAL_SECONDS: '1',
    SCALING_INTERVAL_SECONDS: '3600',
    SCALING_POLICY: 'step',
    ...extra,
  });
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forSettings(fleet.settings, fleet)],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false });
  configureApp(app, fleet.settings);
  await app.init();
  return app;
}

export async function eventually<T>(
  probe: () => Promise<T> | T,
  accept: (value: T) => boolean,
  timeoutMs = 15000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await probe();
    if (accept(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every endpoint of docs/architecture.md §4, as the OpenAPI document and the Swagger UI must list them. */
export const DOCUMENTED_PATHS = [
  '/',
  '/up',
  '/down',
  '/webhooks/grafana',
  '/webhooks/alertmanager',
  '/pool',
  '/pool/scale',
  '/pool/events',
  '/pool/history',
  '/pools',
  '/pools/{name}',
  '/pools/{name}/scale',
  '/pools/{name}/events',
  '/status/pools/{name}',
  '/status/pools/{name}/spark.svg',
  '/leadership',
  '/status/chart.svg',
  '/metrics',
  '/health',
];

/** Debian's Chromium, headless, off the (closed) network: for the browser tests. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = '/usr/bin/chromium';
  if (!existsSync(executablePath))
    throw new Error(`${executablePath} is missing: bash scripts/setup.sh installs it`);
  // Playwright gives each launch a fresh profile.
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
