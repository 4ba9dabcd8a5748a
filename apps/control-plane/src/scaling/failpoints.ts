/**
 * Failpoints for crash tests (the gofail / fail-rs idea): named points in the scaling sequence at which the process
 * SIGKILLs itself when FAILPOINTS names them, so a test can crash it exactly there instead of guessing with timers.
 * Unset in production; a name not listed here is refused at boot.
 */
export const FAILPOINT_NAMES = [
  /** The write-ahead record of a scale call is on disk; the call has not been made. */
  'after-intent-saved',
  /** The scale call was answered (its operation id is saved); its operation has not been followed yet. */
  'after-scale-answered',
  /** The first poll of the operation was answered: the operation is running. */
  'during-operation',
  /** The operation completed; the outcome is not saved yet. */
  'after-operation-complete',
] as const;
export type FailpointName = (typeof FAILPOINT_NAMES)[number];

export const FAILPOINTS_PATTERN = new RegExp(
  `^(${FAILPOINT_NAMES.join('|')})(,(${FAILPOINT_NAMES.join('|')}))*$`,
);

/** Kills the process at `name` if `enabled` (the FAILPOINTS setting) lists it. */
export function failpoint(enabled: string | undefined, name: FailpointName): void {
  if (!enabled || !enabled.split(',').includes(name)) return;
  process.stderr.write(`failpoint ${name}: SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
}
