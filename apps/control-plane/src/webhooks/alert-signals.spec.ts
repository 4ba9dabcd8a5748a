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
        {
          direction: 'up',
          action: 'record',
          alert: 'High memory usage',
          id: 'c6eadffa33fcdf37',
          value: null,
        },
        { direction: 'up', action: 'record', alert: 'High CPU usage', id: 'bc97ff14869b13e3', value: null },
      ],
      ignored: [],
      undirected: [],
      group: { key: '{}:{}', complete: true },
    });
  });

  it('clears on resolved and ignores test notifications', () => {
    expect(mapPayloadToSignals(load('grafana/grafana-unified-resolved.json'), 'down').changes).toEqual([
      { direction: 'down', action: 'clear', alert: 'Test alert', id: expect.any(String), value: null },
    ]);
    expect(mapPayloadToSignals(load('grafana/grafana-unified-test-notification.json'), 'up')).toMatchObject({
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
      { direction: 'up', action: 'record', alert: 'Panel Title alert', id: 'rule:1', value: 1 },
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

  it('takes the measured value, never a condition result, and nothing when candidates cannot be told apart', () => {
    const unified = load('grafana/grafana-unified-firing-v11-values.json');
    if (unified.kind !== 'alert-group') throw new Error('unexpected kind');
    // Untyped values: A is a byte count, B = 0 and C = 1 may be conditions, `minute` is 9: nothing to size from.
    expect(mapPayloadToSignals(unified, 'up').changes[0].value).toBeNull();
    expect(alertUtilisation({ values: { A: 2473545728 } })).toBeNull();
    expect(alertUtilisation({ annotations: { value: '0.9312' } })).toBe(0.9312);
    // The annotation wins over any expression.
    expect(alertUtilisation({ annotations: { value: '0.5' }, values: { A: 0.9, B: 1 } })).toBe(0.5);
    // Untyped: conditions (0/1) left out; query and reduce agree.
    expect(alertUtilisation({ values: { A: 0.93, B: 0.93, C: 1 } })).toBe(0.93);
    expect(alertUtilisation({ values: { A: 0.62, B: 1 } })).toBe(0.62);
    expect(alertUtilisation({ values: { B: 1 } })).toBeNull();
    expect(alertUtilisation({ values: { A: 0.4, B: 0.93, C: 1 } })).toBeNull();
    expect(alertUtilisation({ annotations: { value: '93' }, values: null })).toBeNull();
    expect(alertUtilisation({ annotations: { value: '' } })).toBeNull();
  });

  it.each([
    [
      'a threshold B',
      { A: 0.62, B: 1 },
      "[ var='A' labels={} type='query' value=0.62 ], [ var='B' labels={} type='threshold' value=1 ]",
      0.62,
    ],
    [
      'a math condition',
      { A: 0.71, B: 0 },
      "[ var='A' labels={} type='query' value=0.71 ], [ var='B' labels={} type='math' value=0 ]",
      0.71,
    ],
    [
      'a reduce beside a range query',
      { A: 0.5, B: 0.83, C: 1 },
      "[ var='A' labels={} type='query' value=0.5 ], [ var='B' labels={} type='reduce' value=0.83 ], [ var='C' labels={} type='threshold' value=1 ]",
      0.83,
    ],
    [
      'a classic condition',
      { A: 0.44, B: 1 },
      "[ var='A' labels={} type='query' value=0.44 ], [ var='B' labels={} type='classic_conditions' value=1 ]",
      0.44,
    ],
    [
      'a utilisation of exactly 1 typed as a query',
      { A: 1, B: 1 },
      "[ var='A' labels={} type='query' value=1 ], [ var='B' labels={} type='threshold' value=1 ]",
      1,
    ],
    [
      'two queries that disagree',
      { A: 0.3, B: 0.9 },
      "[ var='A' labels={} type='query' value=0.3 ], [ var='B' labels={} type='query' value=0.9 ]",
      null,
    ],
  ])('with a typed valueString, reads the data expression beside %s', (_, values, valueString, expected) => {
    expect(alertUtilisation({ values, valueString })).toBe(expected);
  });

  it('reads legacy evalMatches only when they agree', () => {
    const legacy = load('grafana/grafana-legacy-alerting.json');
    if (legacy.kind !== 'grafana-legacy') throw new Error('unexpected kind');
    legacy.payload.evalMatches = [
      { value: 0.7, metric: 'a', tags: null },
      { value: 0.9, metric: 'b', tags: null },
    ];
    expect(mapPayloadToSignals(legacy, 'up').changes[0].value).toBeNull();
    legacy.payload.evalMatches = [{ value: 0.9, metric: 'a', tags: null }];
    expect(mapPayloadToSignals(legacy, 'up').changes[0].value).toBe(0.9);
  });

  it.each([
    [
      'DatasourceNoData',
      { alertname: 'DatasourceNoData', autoscale: 'up', rulename: 'PoolCpuHigh' },
      {},
      'firing',
    ],
    [
      'DatasourceError',
      { alertname: 'DatasourceError', autoscale: 'up' },
      { Error: 'connection refused' },
      'firing',
    ],
    ['a resolved DatasourceNoData', { alertname: 'DatasourceNoData', autoscale: 'up' }, {}, 'resolved'],
    [
      'the rule itself fired on NoData',
      { alertname: 'PoolCpuHigh', autoscale: 'up' },
      { grafana_state_reason: 'NoData' },
      'firing',
    ],
    [
      'the rule itself fired on Error',
      { alertname: 'PoolCpuHigh', autoscale: 'up' },
      { grafana_state_reason: 'Error' },
      'firing',
    ],
    [
      'NoData kept as last state',
      { alertname: 'PoolCpuHigh', autoscale: 'down' },
      { grafana_state_reason: 'NoData, KeepLast' },
      'firing',
    ],
    [
      'the rule fired on a query error (annotation Error)',
      { alertname: 'PoolCpuHigh', autoscale: 'up' },
      { Error: 'context deadline exceeded' },
      'firing',
    ],
  ])('ignores missing data with its reason: %s', (_, labels, annotations, status) => {
    const mapping = mapPayloadToSignals(
      { kind: 'alert-group', payload: { status, alerts: [{ status, labels, annotations }] } as never },
      undefined,
    );
    expect(mapping.changes).toEqual([]);
    expect(mapping.ignored[0].reason).toMatch(/missing data is not load/);
  });

  it('ignores a legacy alerting notification without evalMatches values (the panel has no data)', () => {
    const legacy = load('grafana/grafana-legacy-alerting.json');
    if (legacy.kind !== 'grafana-legacy') throw new Error('unexpected kind');
    for (const matches of [[], undefined, [{ value: null, metric: 'x', tags: null }]]) {
      legacy.payload.evalMatches = matches as never;
      const mapping = mapPayloadToSignals(legacy, 'up');
      expect(mapping.changes).toEqual([]);
      expect(mapping.ignored[0].reason).toMatch(/missing data is not load/);
    }
  });

  it('identifies each alert by fingerprint, else by its whole label set (order of labels irrelevant)', () => {
    const mk = (fingerprint: string | undefined, labels: Record<string, string>) =>
      mapPayloadToSignals(
        {
          kind: 'alert-group',
          payload: { status: 'firing', alerts: [{ status: 'firing', labels, fingerprint }] } as never,
        },
        'up',
      ).changes[0].id;
    expect(mk('abc', { alertname: 'X' })).toBe('abc');
    expect(mk(undefined, { alertname: 'X', instance: 'a' })).toBe(mk('', { instance: 'a', alertname: 'X' }));
    expect(mk(undefined, { alertname: 'X', instance: 'a' })).not.toBe(
      mk(undefined, { alertname: 'X', instance: 'b' }),
    );
  });

  it('says whether the list of a group is whole or truncated', () => {
    const am = load('alertmanager/firing.json');
    if (am.kind !== 'alert-group') throw new Error('unexpected kind');
    am.payload.truncatedAlerts = 3;
    expect(mapPayloadToSignals(am, 'up').group).toMatchObject({ complete: false });
    am.payload.truncatedAlerts = 0;
    expect(mapPayloadToSignals(am, 'up').group).toMatchObject({ complete: true });
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
