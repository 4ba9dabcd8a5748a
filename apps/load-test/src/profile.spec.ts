import { constantProfile, ProfileError, rampProfile, stepProfile } from './profile';

describe('load profiles', () => {
  it('holds a constant number of clients', () => {
    const p = constantProfile(5, 10);
    expect([p.clientsAt(0), p.clientsAt(9.9), p.durationSeconds, p.maxClients]).toEqual([5, 5, 10, 5]);
  });

  it('steps through CLIENTSxSECONDS segments', () => {
    const p = stepProfile('0x5, 8x10,2x5');
    expect([p.clientsAt(0), p.clientsAt(5), p.clientsAt(14.9), p.clientsAt(15), p.clientsAt(21)]).toEqual([
      0, 8, 8, 2, 0,
    ]);
    expect(p.durationSeconds).toBe(20);
    expect(p.maxClients).toBe(8);
  });

  it('ramps linearly', () => {
    const p = rampProfile('0-10', 10);
    expect([p.clientsAt(0), p.clientsAt(5), p.clientsAt(10), p.clientsAt(20)]).toEqual([0, 5, 10, 10]);
  });

  it('rejects malformed specs with the option name', () => {
    expect(() => stepProfile('8*10')).toThrow(ProfileError);
    expect(() => stepProfile('8x0')).toThrow(/duration > 0/);
    expect(() => rampProfile('up', 5)).toThrow(/--ramp/);
    expect(() => constantProfile(-1, 5)).toThrow(/--clients/);
  });
});
