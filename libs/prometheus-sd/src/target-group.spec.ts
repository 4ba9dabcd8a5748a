import { isValidTarget, renderTargetGroups, targetGroupProblems, validateTargetGroups } from './target-group';

describe('target groups', () => {
  it('accepts host:port targets and rejects the rest', () => {
    for (const ok of ['194.182.0.10:9100', 'node-1.example.com:80', '[2001:db8::1]:9100', 'localhost:1']) {
      expect(isValidTarget(ok)).toBe(true);
    }
    for (const bad of [
      '194.182.0.10',
      ':9100',
      'host:0',
      'host:65536',
      'host:port',
      'a b:80',
      'http://x:80',
      '',
    ]) {
      expect(isValidTarget(bad)).toBe(false);
    }
  });

  it('reports every problem, with label names checked against the Prometheus grammar', () => {
    const problems = targetGroupProblems([
      { targets: ['1.2.3.4'], labels: { 'instance-id': 'x', ok_name: 'y', __meta: 'z', '9lives': 'w' } },
    ]);
    expect(problems).toEqual([
      'group 0: target "1.2.3.4" is not host:port',
      'group 0: label name "instance-id" is invalid',
      'group 0: label name __meta is reserved',
      'group 0: label name "9lives" is invalid',
    ]);
    expect(() => validateTargetGroups([{ targets: ['x'], labels: {} }])).toThrow(
      /invalid service discovery target groups/,
    );
  });

  it('renders deterministically whatever the input order', () => {
    const a = renderTargetGroups([
      { targets: ['10.0.0.2:9100'], labels: { zone: 'at-vie-1', instance_id: 'b' } },
      { targets: ['10.0.0.1:9100', '10.0.0.1:9100'], labels: { instance_id: 'a', zone: 'at-vie-1' } },
    ]);
    const b = renderTargetGroups([
      { targets: ['10.0.0.1:9100'], labels: { zone: 'at-vie-1', instance_id: 'a' } },
      { targets: ['10.0.0.2:9100'], labels: { instance_id: 'b', zone: 'at-vie-1' } },
    ]);
    expect(a).toBe(b);
    expect(JSON.parse(a)).toEqual([
      { targets: ['10.0.0.1:9100'], labels: { instance_id: 'a', zone: 'at-vie-1' } },
      { targets: ['10.0.0.2:9100'], labels: { instance_id: 'b', zone: 'at-vie-1' } },
    ]);
    expect(a.endsWith('\n')).toBe(true);
  });

  it('renders an empty set as an empty array', () => {
    expect(renderTargetGroups([])).toBe('[]\n');
  });
});
