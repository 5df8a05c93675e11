import type { BgError, Color, EventDataInput, SwitchReason } from "@bluegreen/contracts";

/**
 * What a switch request is answered with: the data of a `switch.done` or a `switch.failed`,
 * and the result it counts as in the metrics. Built here only, by `decide` (answers that need
 * no step) and by the effects (answers after the nginx steps or the record).
 */

export type SwitchOutcome =
  | { kind: "done"; data: EventDataInput<"switch.done"> }
  | { kind: "failed"; data: EventDataInput<"switch.failed">; result: "refused" | "failed" };

export type SwitchResult = "changed" | "unchanged" | "refused" | "failed";

export type FailedStage = EventDataInput<"switch.failed">["stage"];

export type Timings = EventDataInput<"switch.done">["timings"];

/** What an answer repeats of its request. */
export interface Asked {
  to: Color;
  reason: SwitchReason;
  version?: string | undefined;
}

export function resultOf(outcome: SwitchOutcome): SwitchResult {
  if (outcome.kind === "failed") return outcome.result;
  return outcome.data.changed ? "changed" : "unchanged";
}

/** Milliseconds since `start` (a `performance.now()` reading), to 0.01 ms. */
export const since = (start: number, now = performance.now()) =>
  Math.round((now - start) * 100) / 100;

/** A `switch.done`: the target serves (`changed`: this request moved it). */
export function done(
  req: Asked,
  from: Color | null,
  changed: boolean,
  revision: number,
  timings: Timings,
): SwitchOutcome {
  return {
    kind: "done",
    data: {
      to: req.to,
      reason: req.reason,
      ...(req.version === undefined ? {} : { version: req.version }),
      from,
      changed,
      revision,
      timings,
    },
  };
}

/**
 * A `switch.failed`: `refused` when nothing was touched (fence, readiness, deadline, unknown
 * service), `failed` when a step failed; `restored` says whether the previous file is back
 * (default true: nothing was written), `activeColor` what nginx serves.
 */
export function failed(
  req: Asked,
  result: "refused" | "failed",
  stage: FailedStage,
  error: BgError,
  extra: { activeColor: Color | null; output?: string | undefined; restored?: boolean },
): SwitchOutcome {
  return {
    kind: "failed",
    result,
    data: {
      to: req.to,
      reason: req.reason,
      stage,
      error: error.toJSON(),
      ...(extra.output === undefined ? {} : { output: extra.output }),
      restored: extra.restored ?? true,
      activeColor: extra.activeColor,
    },
  };
}
