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
