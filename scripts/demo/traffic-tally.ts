// What the request loop saw, as numbers: answers per colour/version per second, failures, and
// when traffic settled on a colour. Pure, so it is unit-tested.

import type { TrafficSample } from "@bluegreen/testkit";

export type { TrafficSample };

export const isFailure = (s: TrafficSample): boolean => s.status === 0 || s.status >= 500;

export interface Counts {
  readonly requests: number;
  readonly failed: number;
  /** "green v1.1" → answers. */
  readonly byTarget: ReadonlyMap<string, number>;
}

export function targetOf(s: TrafficSample): string {
  return s.color === undefined ? "no answer" : `${s.color} ${s.version ?? "?"}`;
}

export function countSamples(samples: readonly TrafficSample[]): Counts {
  const byTarget = new Map<string, number>();
  let failed = 0;
  for (const s of samples) {
    if (isFailure(s)) failed++;
    byTarget.set(targetOf(s), (byTarget.get(targetOf(s)) ?? 0) + 1);
  }
  return { requests: samples.length, failed, byTarget };
}

/** The samples taken in [from, to). */
export function between(
  samples: readonly TrafficSample[],
  from: number,
  to = Number.POSITIVE_INFINITY,
): TrafficSample[] {
  return samples.filter((s) => s.at >= from && s.at < to);
}

/** One line per second: `blue v1.0 ██████ 12 │ green v1.1 ▏ 1 │ failed 0`. */
export function formatSecond(counts: Counts, barScale = 2): string {
  if (counts.requests === 0) return "no requests";
  const parts = [...counts.byTarget.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([target, n]) => `${target} ${"█".repeat(Math.max(1, Math.round(n / barScale)))} ${n}`);
  return `${parts.join(" │ ")} │ failed ${counts.failed}`;
}

/**
 * When traffic settled on `color` after `since`: the time of the first answer from it that
 * starts a run of `run` answers in a row from it (nginx's old workers may still answer for a
 * moment after a reload). Failed answers break the run unless `okOnly` is false. Undefined
 * when it never did.
 */
export function settledOn(
  samples: readonly TrafficSample[],
  color: string,
  since: number,
  opts: { run?: number; okOnly?: boolean } = {},
): number | undefined {
  const run = opts.run ?? 10;
  const okOnly = opts.okOnly ?? true;
  let start: number | undefined;
  let count = 0;
  for (const s of samples) {
    if (s.at < since) continue;
    if (s.color === color && !(okOnly && isFailure(s))) {
      if (count === 0) start = s.at;
      count++;
      if (count >= run) return start;
    } else {
      count = 0;
      start = undefined;
    }
  }
  return undefined;
}
