import { SignalBook } from './signal-book';

const firing = (alert: string, value: number | null = null) =>
  ({ direction: 'up', alert, status: 'firing', value, source: 'test' }) as const;

describe('SignalBook', () => {
  it('keeps a firing alert as state until it is resolved', () => {
    const book = new SignalBook(420);
    book.notify(firing('PoolCpuHigh', 0.93), 100);
    book.notify(firing('PoolCpuHigh', 0.97), 400);
    expect(book.signals('up', 500)).toEqual({
      pendingStep: true,
      alert: {
        firingSince: 100,
        lastReceivedAt: 400,
        value: { utilisation: 0.97, measuredAt: 400, source: 'notification' },
        alerts: ['PoolCpuHigh'],
      },
    });
    book.notify({ ...firing('PoolCpuHigh'), status: 'resolved' }, 510);
    expect(book.signals('up', 520)).toEqual({ pendingStep: false, alert: null });
  });

  it('keeps the last value when a repeat carries none', () => {
    const book = new SignalBook(420);
    book.notify(firing('PoolCpuHigh', 0.9), 100);
    book.notify(firing('PoolCpuHigh', null), 200);
    expect(book.signals('up', 200).alert!.value).toEqual({
      utilisation: 0.9,
      measuredAt: 100,
      source: 'notification',
    });
  });

  it('expires an alert not refreshed within the TTL, so a lost "resolved" cannot scale forever', () => {
    const book = new SignalBook(420);
    book.notify(firing('PoolCpuHigh', 0.9), 100);
    expect(book.signals('up', 520).alert).not.toBeNull();
    expect(book.signals('up', 521).alert).toBeNull();
    expect(book.expire(521).map((a) => a.alert)).toEqual(['PoolCpuHigh']);
  });

  it('resolving one alert of a direction keeps the others and their pending step', () => {
    const book = new SignalBook(420);
    book.notify({ ...firing('PoolCpuLow'), direction: 'down' }, 100);
    book.notify({ ...firing('PoolCpuBelowTarget', 0.4), direction: 'down' }, 100);
    book.notify({ ...firing('PoolCpuLow'), direction: 'down', status: 'resolved' }, 110);
    expect(book.signals('down', 110)).toMatchObject({
      pendingStep: true,
      alert: { alerts: ['PoolCpuBelowTarget'] },
    });
  });

  it('consumes only the step it saw, and survives a JSON round trip', () => {
    const book = new SignalBook(420);
    const seen = book.recordStep('up', 'bare', 1);
    book.recordStep('up', 'bare', 2);
    book.consume('up', seen);
    expect(book.pendingStep('up')).toMatchObject({ count: 2 });
    const copy = new SignalBook(420);
    copy.restore(JSON.parse(JSON.stringify(book.toJSON())));
    expect(copy.toJSON()).toEqual(book.toJSON());
    copy.consume('up', copy.pendingStep('up'));
    expect(copy.pendingStep('up')).toBeUndefined();
  });
});

describe('SignalBook: alert identity', () => {
  const firing = (id: string, value: number | null = null, group?: string) => ({
    direction: 'up' as const,
    alert: 'MemberCpuHigh',
    id,
    ...(group ? { group } : {}),
    status: 'firing' as const,
    value,
    source: 'alertmanager',
  });

  it('a resolved instance clears only itself, whatever the order within a notification', () => {
    for (const order of [0, 1]) {
      const book = new SignalBook(600);
      const events = [firing('a', 0.93), { ...firing('b', 0.4), status: 'resolved' as const }];
      for (const e of order ? [...events].reverse() : events) book.notify(e, 100);
      expect(book.firing('up', 100).map((a) => a.id)).toEqual(['a']);
      expect(book.signals('up', 100).pendingStep).toBe(true);
    }
  });

  it('the last resolved instance clears the pending step', () => {
    const book = new SignalBook(600);
    book.notify(firing('a'), 100);
    book.notify(firing('b'), 100);
    book.notify({ ...firing('a'), status: 'resolved' }, 110);
    expect(book.signals('up', 110).pendingStep).toBe(true);
    book.notify({ ...firing('b'), status: 'resolved' }, 120);
    expect(book.signals('up', 120)).toEqual({ pendingStep: false, alert: null });
  });

  it('a whole list of a group resolves its absent alerts, and only that group', () => {
    const book = new SignalBook(600);
    book.notify(firing('a', null, 'g1'), 100);
    book.notify(firing('b', null, 'g1'), 100);
    book.notify(firing('c', null, 'g2'), 100);
    const gone = book.resolveAbsent('g1', [{ direction: 'up', id: 'a' }], 110);
    expect(gone.map((a) => a.id)).toEqual(['b']);
    expect(
      book
        .firing('up', 110)
        .map((a) => a.id)
        .sort(),
    ).toEqual(['a', 'c']);
  });

  it('restores alerts saved before identities existed under their name', () => {
    const book = new SignalBook(600);
    book.restore({
      alerts: [
        {
          direction: 'up',
          alert: 'PoolCpuHigh',
          source: 'grafana',
          firingSince: 1,
          lastReceivedAt: 1,
          value: null,
        },
      ],
      steps: [],
      generation: 0,
    });
    book.notify(
      { direction: 'up', alert: 'PoolCpuHigh', status: 'resolved', value: null, source: 'grafana' },
      2,
    );
    expect(book.firing('up', 2)).toEqual([]);
  });

  it("a resolved alert never seen, or another alert's, does not clear a bare /up's step", () => {
    const book = new SignalBook(600);
    book.recordStep('up', 'bare', 100);
    book.notify({ ...firing('never-seen'), status: 'resolved' }, 101);
    expect(book.signals('up', 101).pendingStep).toBe(true);
    book.notify(firing('a'), 102);
    book.recordStep('up', 'bare', 103);
    book.notify({ ...firing('a'), status: 'resolved' }, 104);
    expect(book.signals('up', 104).pendingStep).toBe(true);
  });

  it('an alert restored from state saved before identities is matched by its name, then by identity', () => {
    const book = new SignalBook(600);
    book.restore({
      alerts: [
        {
          direction: 'up',
          alert: 'PoolCpuHigh',
          source: 'grafana',
          firingSince: 1,
          lastReceivedAt: 1,
          value: null,
        },
      ],
      steps: [
        {
          direction: 'up',
          source: 'grafana',
          firstReceivedAt: 1,
          lastReceivedAt: 1,
          count: 1,
          generation: 1,
        },
      ],
      generation: 1,
    });
    book.notify(
      {
        direction: 'up',
        alert: 'PoolCpuHigh',
        id: 'fp1',
        status: 'resolved',
        value: null,
        source: 'grafana',
      },
      2,
    );
    expect(book.firing('up', 2)).toEqual([]);
    expect(book.signals('up', 2).pendingStep).toBe(false);
    // A firing one takes the legacy entry over (its firing-since kept), never doubling it.
    book.restore({
      alerts: [
        {
          direction: 'up',
          alert: 'PoolCpuHigh',
          source: 'grafana',
          firingSince: 1,
          lastReceivedAt: 1,
          value: null,
        },
      ],
      steps: [],
      generation: 1,
    });
    book.notify(
      { direction: 'up', alert: 'PoolCpuHigh', id: 'fp1', status: 'firing', value: 0.9, source: 'grafana' },
      3,
    );
    expect(book.firing('up', 3)).toEqual([expect.objectContaining({ id: 'fp1', firingSince: 1 })]);
  });
});
