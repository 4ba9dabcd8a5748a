import { DEFAULT_POOL_ID, derivePoolId, EmulatorOptionError, parseEmulatorOptions } from './options';

const parse = (...argv: string[]) => parseEmulatorOptions(argv, '/dist/apps/slow-web/main.js');

describe('emulator options', () => {
  it('keeps the single pool of before by default', () => {
    expect(parse()).toMatchObject({
      apiPort: 8086,
      firstPoolId: DEFAULT_POOL_ID,
      pools: [{ id: DEFAULT_POOL_ID, name: 'local-pool', size: 2, virtual: false, nlbPort: 8000 }],
    });
  });

  it('derives every further pool id from the first, deterministically', () => {
    expect(derivePoolId(DEFAULT_POOL_ID, 1)).toBe('6f0b7a35-4f5e-4a53-9d3e-000000000002');
    expect(derivePoolId(DEFAULT_POOL_ID, 1000)).toBe('6f0b7a35-4f5e-4a53-9d3e-0000000003e9');
    expect(derivePoolId('aaaaaaaa-bbbb-cccc-dddd-ffffffffffff', 1)).toBe(
      'aaaaaaaa-bbbb-cccc-dddd-000000000000',
    );
    expect(() => derivePoolId('not-a-uuid', 1)).toThrow(/--pool-id must be a UUID/);
  });

  it('creates N process pools on consecutive NLB ports, or on listed ports, with their names', () => {
    expect(parse('--pools', '2', '--pool-names', 'web,worker', '--nlb-port', '9000').pools).toEqual([
      { id: DEFAULT_POOL_ID, name: 'web', size: 2, virtual: false, nlbPort: 9000 },
      { id: derivePoolId(DEFAULT_POOL_ID, 1), name: 'worker', size: 2, virtual: false, nlbPort: 9001 },
    ]);
    expect(
      parse('--pools', '3', '--nlb-ports', '8000,8010,8020').pools.map((p) => [p.name, p.nlbPort]),
    ).toEqual([
      ['local-pool', 8000],
      ['local-pool-2', 8010],
      ['local-pool-3', 8020],
    ]);
  });

  it('makes virtual pools: --virtual for the --pools ones, --virtual-pools for more', () => {
    const { pools } = parse('--pools', '2', '--virtual', '--virtual-pools', '3', '--virtual-size', '4');
    expect(pools).toHaveLength(5);
    expect(pools.every((p) => p.virtual && p.nlbPort === undefined)).toBe(true);
    expect(pools.slice(2).map((p) => [p.name, p.size, p.id])).toEqual([
      ['virtual-1', 4, derivePoolId(DEFAULT_POOL_ID, 2)],
      ['virtual-2', 4, derivePoolId(DEFAULT_POOL_ID, 3)],
      ['virtual-3', 4, derivePoolId(DEFAULT_POOL_ID, 4)],
    ]);
  });

  it.each([
    [['--pools', '0'], /--pools must be a number >= 1 and <= 64/],
    [['--pools', 'two'], /--pools must be a number/],
    [['--pools', '2', '--pool-names', 'web'], /--pool-names must list 2 name\(s\)/],
    [['--pools', '2', '--pool-names', 'web,Web'], /"Web" is not a name of \[a-z0-9-\]/],
    [['--pools', '2', '--pool-names', 'web,web'], /--pool-names must be unique/],
    [['--pools', '2', '--nlb-ports', '8000'], /--nlb-ports must list 2 port\(s\)/],
    [['--pools', '2', '--nlb-ports', '8000,8000'], /--nlb-ports must be distinct/],
    [['--pools', '2', '--pool-id', 'custom'], /--pool-id must be a UUID/],
    [['--virtual-pools=-1'], /--virtual-pools must be a number >= 0/],
    [['--pools', '64', '--size', '5'], /exceeds the 254 member addresses/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j naming the option', (argv, message) => {
    expect(() => parse(...argv)).toThrow(EmulatorOptionError);
    expect(() => parse(...argv)).toThrow(message);
  });
});
