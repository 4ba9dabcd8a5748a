import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { alertUtilisation, mapPayloadToSignals, ParsedPayload } from './alert-signals';
import { parseWebhookBody } from './webhook-payload';

const fixtures = join(__dirname, '../../test/fixtures');
const load = (name: string): ParsedPayload => {
  const parsed = parseWebhookBody(JSON.parse(readFileSync(join(fixtures, name), 'utf8')), 'grafana');
  if ('errors' in parsed) throw new Error(parsed.errors.join('; '));
  return parsed;
};

describe('mapPayloadToSignals', () => {
  it('records firing alerts of a unified payload in the fixed direction', () => {
    expect(mapPayloadToSignals(load('grafana/grafana-unified-firing.json'), 'up')).toEqual({
      changes: [
        { direction: 'up', action: 'record', alert: 'High memory usage', value: null },
        { direction: 'up', action: 'record', alert: 'High CPU usage', value: null },
      ],
      ignored: [],
      undirected: [],
    });
  });

  it('clears on resolved and ignores test notifications', () => {
    expect(mapPayloadToSignals(load('grafana/grafana-unified-resolved.json'), 'down').changes).toEqual([
      { direction: 'down', action: 'clear', alert: 'Test alert', value: null },
    ]);
    expect(mapPayloadToSignals(load('grafana/grafana-unified-test-notification.json'), 'up')).toEqual({
      changes: [],
      ignored: [{ alert: 'TestAlert', reason: 'test notification' }],
      undirected: [],
    });
    expect(mapPayloadToSignals(load('grafana/grafana-legacy-test-notification.json'), 'up').ignored).toEqual([
      { alert: 'Test rule', reason: 'test notification' },
    ]);
  });

  it('takes the direction from the autoscale label, per alert', () => {
    const parsed = load('alertmanager/firing.json');
    if (parsed.kind !== 'alert-group') throw new Error('unexpected kind');
    parsed.payload.alerts[0].labels.autoscale = 'up';
    parsed.payload.alerts[1].labels.autoscale = 'DOWN';
    expect(mapPayloadToSignals(parsed, undefined).changes.map((c) => c.direction)).toEqual(['up', 'down']);
  });

  it('reports alerts without a direction', () => {
    expect(mapPayloadToSignals(load('alertmanager/firing.json'), undefined).undirected).toEqual([
      'High CPU Temperature',
      'High CPU Temperature',
    ]);
  });

  it('maps legacy states', () => {
    const legacy = load('grafana/grafana-legacy-alerting.json');
    expect(mapPayloadToSignals(legacy, 'up').changes).toEqual([
      { direction: 'up', action: 'record', alert: 'Panel Title alert', value: 1 },
    ]);
    if (legacy.kind !== 'grafana-legacy') throw new Error('unexpected kind');
    legacy.payload.state = 'ok';
    expect(mapPayloadToSignals(legacy, 'up').changes[0].action).toBe('clear');
    legacy.payload.state = 'no_data';
    expect(mapPayloadToSignals(legacy, 'up').ignored[0].reason).toBe('state no_data is not a scaling signal');
    legacy.payload.state = 'alerting';
    legacy.payload.tags = { autoscale: 'down' };
    expect(mapPayloadToSignals(legacy, undefined).changes[0].direction).toBe('down');
  });

  it('takes the utilisation from the annotation `value`, Grafana values, or nothing when it is not a fraction', () => {
    const unified = load('grafana/grafana-unified-firing-v11-values.json');
    if (unified.kind !== 'alert-group') throw new Error('unexpected kind');
    // This fixture's B (a reduce expression) is 0, a valid fraction; its A is a byte count (2.47e9), never used.
    expect(mapPayloadToSignals(unified, 'up').changes[0].value).toBe(0);
    expect(alertUtilisation({ values: { A: 2473545728 } })).toBeNull();
    expect(alertUtilisation({ annotations: { value: '0.9312' } })).toBe(0.9312);
    expect(alertUtilisation({ values: { A: 0.4, B: 0.93, C: 1 } })).toBe(0.93);
    expect(alertUtilisation({ annotations: { value: '93' }, values: null })).toBeNull();
    expect(alertUtilisation({ annotations: { value: '' } })).toBeNull();
  });

  it('ignores alerts scoped to another policy', () => {
    const am = load('alertmanager/firing.json');
    if (am.kind !== 'alert-group') throw new Error('unexpected kind');
    am.payload.alerts[0].labels.autoscale_policy = 'target';
    expect(mapPayloadToSignals(am, 'down', 'step').ignored[0].reason).toBe(
      'for the target policy only (SCALING_POLICY is step)',
    );
    expect(mapPayloadToSignals(am, 'down', 'target').changes).toHaveLength(am.payload.alerts.length);
  });
});
