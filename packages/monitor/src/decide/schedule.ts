/**
 * When the next check of a watch is due. Checks sit on the grid `startedAt + k·interval`
 * (k ≥ 1), the last one at the deadline. Slots missed while the monitor was down are not
 * replayed: the next due slot is the first one after the last check, and a watch that is
 * late checks at once. Pure.
 */

export interface Schedule {
  readonly startedAt: number;
  readonly deadline: number;
  readonly lastCheckAt: number;
}

export function nextCheckAt(s: Schedule, intervalMs: number): number {
  const interval = Math.max(1, intervalMs);
  const k = Math.floor((s.lastCheckAt - s.startedAt) / interval) + 1;
  return Math.min(s.startedAt + k * interval, s.deadline);
}

/** The window is over once a check ran at (or after) the deadline. */
export function windowDone(s: Schedule): boolean {
  return s.lastCheckAt >= s.deadline;
}

/** Milliseconds of the window still ahead. */
export function remainingMs(s: Schedule, now: number): number {
  return Math.max(0, s.deadline - now);
}
