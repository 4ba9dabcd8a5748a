/** The scaling decision as a pure function: state in, decision with its reasons out. */

export type Direction = 'up' | 'down';

export interface PolicyInput {
  /** Pending signals, or for a manual action the requested change. */
  request:
    | { kind: 'signals'; up: boolean; down: boolean }
    | { kind: 'step'; direction: Direction }
    | { kind: 'size'; size: number };
  pool: { size: number; state: string };
  bounds: { min: number; max: number };
  /**
   * Time since the pool last changed (our last step, or the newest member's creation), and the cooldowns. They apply
   * to signals only; a manual action is an operator's explicit choice.
   */
  cooldown?: { secondsSinceLastChange: number | null; upSeconds: number; downSeconds: number };
}

export type DecisionOutcome = 'scale' | 'none' | 'deferred';

export interface Decision {
  outcome: DecisionOutcome;
  /** The direction acted on (or that was asked for), if any. */
  direction: Direction | null;
  currentSize: number;
  targetSize: number;
  /** Signals this decision used up: they are cleared once the decision is carried out. */
  consumes: Direction[];
  reasons: string[];
  /** Which bound changed the result, if one did. */
  boundApplied: 'min' | 'max' | null;
}

function clamp(
  n: number,
  { min, max }: PolicyInput['bounds'],
): { value: number; bound: 'min' | 'max' | null } {
  if (n < min) return { value: min, bound: 'min' };
  if (n > max) return { value: max, bound: 'max' };
  return { value: n, bound: null };
}

export function decideScaling(input: PolicyInput): Decision {
  const { pool, bounds, request } = input;
  const current = pool.size;
  const none = (
    reasons: string[],
    direction: Direction | null = null,
    consumes: Direction[] = [],
  ): Decision => ({
    outcome: 'none',
    direction,
    currentSize: current,
    targetSize: current,
    consumes,
    reasons,
    boundApplied: null,
  });

  let direction: Direction | null = null;
  let consumes: Direction[] = [];
  let wanted: number;
  const reasons: string[] = [];

  if (request.kind === 'signals') {
    if (!request.up && !request.down) return none(['no pending signal']);
    direction = request.up ? 'up' : 'down';
    consumes = request.up && request.down ? ['up', 'down'] : [direction];
    reasons.push(
      request.up && request.down
        ? 'up and down signals both pending: up wins, the down signal is dropped'
        : `${direction} signal pending`,
    );
    wanted = current + (direction === 'up' ? 1 : -1);
  } else if (request.kind === 'step') {
    direction = request.direction;
    reasons.push(`manual step ${direction}`);
    wanted = current + (direction === 'up' ? 1 : -1);
  } else {
    wanted = request.size;
    direction = wanted > current ? 'up' : wanted < current ? 'down' : null;
    reasons.push(`manual size ${wanted}`);
  }

  const deferred = (why: string): Decision => ({
    outcome: 'deferred',
    direction,
    currentSize: current,
    targetSize: current,
    consumes: [],
    reasons: [...reasons, `${why}: deferred, signals kept`],
    boundApplied: null,
  });

  if (pool.state !== 'running') return deferred(`pool is ${pool.state}, not running`);

  const cooldown = input.cooldown;
  if (request.kind === 'signals' && cooldown && cooldown.secondsSinceLastChange !== null && direction) {
    const period = direction === 'up' ? cooldown.upSeconds : cooldown.downSeconds;
    const since = cooldown.secondsSinceLastChange;
    if (since < period && clamp(wanted, bounds).value !== current) {
      return deferred(
        `${direction} cooldown: last pool change ${Math.floor(since)} s ago, cooldown ${period} s`,
      );
    }
  }

  const { value: target, bound } = clamp(wanted, bounds);
  if (bound)
    reasons.push(
      `${wanted} is ${bound === 'max' ? 'above the maximum' : 'below the minimum'} ${bounds[bound]}: clamped to ${target}`,
    );
  if (target === current) {
    return { ...none([...reasons, `size stays ${current}`], direction, consumes), boundApplied: bound };
  }
  reasons.push(`size ${current} -> ${target}`);
  return {
    outcome: 'scale',
    direction,
    currentSize: current,
    targetSize: target,
    consumes,
    reasons,
    boundApplied: bound,
  };
}
