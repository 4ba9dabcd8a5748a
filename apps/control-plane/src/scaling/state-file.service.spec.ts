import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadSettings } from '../config/settings';
import { DecisionLogService } from './decision-log.service';
import { DeliveryLedger } from './delivery-ledger';
import { SignalStore } from './signal-store';
import { STATE_FILE_NAME, StateFile } from './state-file.service';

function boot(dir: string, poolId = 'a02baf5a-a3e4-49a0-857b-8a08d276c1c0') {
  const settings = loadSettings({
    EXOSCALE_KEY: 'EXOkey',
    EXOSCALE_SECRET: 'secret',
    EXOSCALE_INSTANCEPOOL_ID: poolId,
    STATE_DIR: dir,
  });
  const signals = new SignalStore(settings);
  const log = new DecisionLogService();
  const deliveries = new DeliveryLedger(settings);
  return { signals, log, deliveries, state: new StateFile(settings, signals, log, deliveries) };
}

describe('StateFile', () => {
  it('starts clean without a file, and restores what it saved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const first = boot(dir);
    expect(first.signals.snapshot()).toEqual({ up: undefined, down: undefined });
    first.signals.record('up', 'bare');
    first.signals.notify({
      direction: 'down',
      alert: 'PoolCpuLow',
      status: 'firing',
      value: 0.05,
      source: 'grafana',
    });
    first.log.append({ time: 't' } as never);
    const record = {
      entryId: 1,
      trigger: 'tick' as const,
      from: 2,
      to: 3,
      calledAt: 1200,
      consumes: ['up' as const],
      steps: { up: { generation: 1 } },
      operationId: null,
    };
    first.deliveries.check('k1', Date.now() / 1000);
    await expect(first.state.save({ lastScaledAt: 1234, record })).resolves.toBe(true);
    expect(readFileSync(join(dir, STATE_FILE_NAME), 'utf8')).toContain('PoolCpuLow');

    const second = boot(dir);
    expect(second.signals.snapshot().up).toMatchObject({ direction: 'up', source: 'bare' });
    expect(second.signals.firing().map((a) => a.alert)).toEqual(['PoolCpuLow']);
    expect(second.log.list()).toHaveLength(1);
    expect(second.state.restored).toEqual({ lastScaledAt: 1234, record });
    expect(second.deliveries.check('k1', Date.now() / 1000)).toMatchObject({ duplicate: true });
    expect(second.log.append({ time: 'later' } as never).id).toBe(2);
  });

  it('starts clean from a corrupt file and keeps it aside, never throwing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    writeFileSync(join(dir, STATE_FILE_NAME), '{"version":1,"signals":');
    const { signals, state } = boot(dir);
    expect(signals.snapshot()).toEqual({ up: undefined, down: undefined });
    expect(state.restored.lastScaledAt).toBeNull();
    expect(readdirSync(dir).filter((f) => f.startsWith(`${STATE_FILE_NAME}.corrupt-`))).toHaveLength(1);
  });

  it('reports a failed write in its status and does not throw', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, 'a file where the directory should be');
    const { state } = boot(blocked);
    await expect(state.save()).resolves.toBe(false);
    expect(state.status.consecutiveFailures).toBe(1);
    expect(state.status.lastError).toMatch(/cannot write .*state\.json/);
  });

  it('reads the unknown-outcome call of an older state file as a write-ahead record to settle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const unverified = {
      target: 3,
      from: 2,
      calledAt: 1200,
      consumes: ['up'],
      steps: { up: { generation: 4 } },
    };
    writeFileSync(
      join(dir, STATE_FILE_NAME),
      JSON.stringify({
        version: 1,
        savedAt: 'then',
        signals: { alerts: [], steps: [], generation: 4 },
        scaling: { lastScaledAt: null, unverified },
        decisions: [],
      }),
    );
    expect(boot(dir).state.restored.record).toMatchObject({ from: 2, to: 3, calledAt: 1200, entryId: null });
  });

  it('coalesces concurrent saves into at most one write after the one in flight', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const { signals, state } = boot(dir);
    const saves = Array.from({ length: 20 }, (_, i) => {
      signals.record(i % 2 ? 'up' : 'down', `s${i}`);
      return state.save();
    });
    await Promise.all(saves);
    const saved = JSON.parse(readFileSync(join(dir, STATE_FILE_NAME), 'utf8')) as {
      signals: { steps: { source: string }[] };
    };
    expect(saved.signals.steps.map((s) => s.source).sort()).toEqual(['s18', 's19']);
  });
  it("sets another pool's state aside instead of settling its scale record against this pool", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const first = boot(dir);
    first.signals.record('up', 'bare');
    await first.state.save({
      lastScaledAt: 1,
      record: {
        entryId: 1,
        trigger: 'tick',
        from: 1,
        to: 3,
        calledAt: 1,
        consumes: ['up'],
        steps: {},
        operationId: null,
      },
    });
    const other = boot(dir, 'b13c0a6b-b4f5-4a1a-968c-9b19e387d2d1');
    expect(other.state.restored.record).toBeNull();
    expect(other.signals.snapshot()).toEqual({ up: undefined, down: undefined });
    expect(readdirSync(dir)).toContain(`${STATE_FILE_NAME}.pool-a02baf5a-a3e4-49a0-857b-8a08d276c1c0`);
    const same = boot(dir, 'B13C0A6B-B4F5-4A1A-968C-9B19E387D2D1');
    expect(same.state.restored.record).toBeNull();
  });
});
