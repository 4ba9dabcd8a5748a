import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { parse as parseYaml } from 'yaml';

import { generateConfigs } from '../../apps/local-stack/src/configs';
import { TIMINGS } from '../../apps/local-stack/src/timings';

export const ROOT = resolve(__dirname, '../..');

export const readYaml = <T = Record<string, unknown>>(path: string): T =>
  parseYaml(readFileSync(resolve(ROOT, path), 'utf8')) as T;

/** Runs a validator from Debian's packages; its exit status and output. */
export function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  if (result.error)
    throw new Error(
      `${command} is not installed (bash scripts/setup.sh installs it): ${result.error.message}`,
    );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Writes the local stack's generated configs into `dir` with the launcher's own code (apps/local-stack). */
export function generateLocalConfigs(
  dir: string,
  mode: 'normal' | 'fast',
): { prometheusFile: string; rulesFile: string; alertmanagerFile: string } {
  return generateConfigs(ROOT, dir, TIMINGS[mode], join(dir, 'sd'));
}
