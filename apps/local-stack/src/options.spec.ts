import { OptionError, parseOptions } from './options';

const ROOT = '/project';
const parse = (...argv: string[]) => parseOptions(argv, ROOT);

describe('local stack options', () => {
  it('has the documented defaults', () => {
    expect(parse()).toEqual({
      fast: false,
      min: 1,
      max: 5,
      size: 2,
      policy: 'target',
      dir: '/project/.local',
    });
  });

  it('takes every option', () => {
    expect(
      parse(
        '--fast',
        '--min',
        '1',
        '--max',
        '10',
        '--size',
        '3',
        '--policy',
        'step',
        '--boot',
        '5',
        '--dir',
        '/tmp/x',
      ),
    ).toEqual({
      fast: true,
      min: 1,
      max: 10,
      size: 3,
      policy: 'step',
      boot: 5,
      dir: '/tmp/x',
    });
    expect(parse('--help')).toBe('help');
    const schedule = '[{name: soon, start: "* * * * *", duration: 10m, min: 3}]';
    expect(parse('--schedule', schedule)).toMatchObject({ schedule });
    expect(parse('--pools', '2')).toMatchObject({ pools: 2, size: 2 });
    expect(parse('--replicas', '2', '--fast')).toMatchObject({ replicas: 2, fast: true });
    expect(parse('--replicas=1')).toMatchObject({ replicas: 1 });
    expect(parse('--replicas', '2', '--pools', '2')).toMatchObject({ replicas: 2, pools: 2 });
  });

  it('leaves --replicas out by default: one control plane on the file store, exactly as before', () => {
    expect(parse()).not.toHaveProperty('replicas');
  });

  it.each([
    [['--max', 'ten'], /--max must be a whole number between 1 and 100, got "ten"/],
    [['--min', '0'], /--min must be a whole number/],
    [['--min', '4', '--max', '2'], /--min \(4\) must not exceed --max \(2\)/],
    [['--size', '7', '--max', '5'], /--size \(7\) must be within --min..--max \(1..5\)/],
    [['--policy', 'magic'], /--policy must be target or step/],
    [['--boot=-1'], /--boot must be a whole number between 0 and 600/],
    [['--bogus'], /Unknown option '--bogus'/],
    [
      ['--schedule', '[{name: a, start: "* * * * *", duration: 10m, min: 6}]'],
      /--schedule\[0\] \(a\)\.min \(6\) must not exceed --max \(5\)/,
    ],
    [
      ['--schedule', '[{name: a, start: "* * * *", duration: 10m, min: 3}]'],
      /--schedule\[0\] \(a\)\.start .* must have 5 fields/,
    ],
    [['--schedule', '[]'], /--schedule must list at least one window/],
    [['--pools', '5'], /--pools must be a whole number between 1 and 4, got "5"/],
    [['--pools', '0'], /--pools must be a whole number between 1 and 4, got "0"/],
    [['--pools', 'two'], /--pools must be a whole number between 1 and 4, got "two"/],
    [['--replicas', '3'], /--replicas must be a whole number between 1 and 2, got "3"/],
    [['--replicas', '0'], /--replicas must be a whole number between 1 and 2, got "0"/],
    [['--replicas', 'two'], /--replicas must be a whole number between 1 and 2, got "two"/],
    [['--replicas', ''], /--replicas must be a whole number between 1 and 2, got ""/],
    [['--replicas'], /--replicas/],
  ])('rejects %j naming the option', (argv, message) => {
    expect(() => parse(...argv)).toThrow(OptionError);
    expect(() => parse(...argv)).toThrow(message);
  });
});
