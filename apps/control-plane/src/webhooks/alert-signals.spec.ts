import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { mapPayloadToSignals, ParsedPayload } from './alert-signals';
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
        { direction: 'up', action: 'record', alert: 'High memory usage' },
        { direction: 'up', action: 'record', alert: 'High CPU usage' },
      ],
      ignored: [],
      undirected: [],
    });
  });

  it('clears on resolved and ignores test notifications', () => {
    expect(mapPayloadToSignals(load('grafana/grafana-unified-resolved.json'), 'down').changes).toEqual([
      { direction: 'down', action: 'clear', alert: 'Test alert' },
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
      { direction: 'up', action: 'record', alert: 'Panel Title alert' },
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
});
