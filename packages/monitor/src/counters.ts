/**
 * Counter arithmetic between two scrapes. Counters only go up; one that went down means the
 * process restarted (a reset), so what it counts now is all that happened since.
 */

/** Counter values by series key (e.g. by status, or by histogram bound). */
export type Counts = Readonly<Record<string, number>>;

export interface CounterDelta {
  readonly deltas: Record<string, number>;
  /** True when a series fell or vanished: the counters restarted between the scrapes. */
  readonly reset: boolean;
}

/**
 * What was counted between `previous` and `current`. A series that is new since `previous`
 * started from zero (prom-client creates a label set on its first increment). On a reset the
 * current values are the deltas.
 */
export function counterDeltas(previous: Counts, current: Counts): CounterDelta {
  const reset = Object.entries(previous).some(([key, before]) => {
    const now = current[key];
    return now === undefined || now < before;
  });
  const deltas: Record<string, number> = {};
  for (const [key, now] of Object.entries(current)) {
    deltas[key] = reset ? now : now - (previous[key] ?? 0);
  }
  return { deltas, reset };
}

export function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
