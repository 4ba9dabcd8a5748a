import { SimulatedCpu } from './simulated-cpu';

describe('SimulatedCpu', () => {
  it('counts busy time while any load is active, overlapping loads once', () => {
    let t = 100;
    const cpu = new SimulatedCpu(() => t, 0);
    t += 10; // idle 10 s
    cpu.begin();
    t += 2;
    cpu.begin(); // overlapping load
    t += 3;
    cpu.end();
    t += 5;
    cpu.end(); // busy from 110 to 120
    t += 10;
    expect(cpu.counters()).toEqual({ user: 10, system: 0, idle: 20 });
  });

  it('includes the load still running and splits idle time by the baseline', () => {
    let t = 0;
    const cpu = new SimulatedCpu(() => t, 0.1);
    t = 10;
    cpu.begin();
    t = 15;
    const c = cpu.counters();
    expect(c.user).toBe(5);
    expect(c.system).toBeCloseTo(1);
    expect(c.idle).toBeCloseTo(9);
    expect(cpu.activeLoads).toBe(1);
  });
});
