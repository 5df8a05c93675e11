import type { BgEvent } from "@bluegreen/contracts";
import { type DeploymentState, isTerminal } from "@bluegreen/coordinator";
import { str, usageError, type Values } from "./args.ts";
import { ExitCode, exitCodeOf } from "./exit-codes.ts";

/**
 * `--until switched|done`: how far a wait follows a deployment. `done` (the default) waits for
 * its outcome; `switched` stops with exit 0 once traffic is on the new colour (the SLO watch
 * goes on without the CLI: `bluegreen wait <id>` reports its end later).
 */
export type Until = "switched" | "done";

export function untilOption(values: Values, fallback: Until = "done"): Until {
  const raw = str(values, "until") ?? fallback;
  if (raw !== "switched" && raw !== "done")
    throw usageError(`--until: expected 'switched' or 'done', got '${raw}'`);
  return raw;
}

/** With `switched`: the promote switch's `switch.done` ends the wait with exit 0. */
export function untilSwitched(
  until: Until,
): ((event: BgEvent) => ExitCode | undefined) | undefined {
  if (until !== "switched") return undefined;
  return (event) =>
    event.type === "bluegreen.switch.done" &&
    (event as BgEvent<"switch.done">).data.reason === "promote"
      ? ExitCode.ok
      : undefined;
}

/** The exit code of a stored deployment that ended (or switched, with `switched`). */
export function storedOutcome(state: DeploymentState, until: Until): ExitCode | undefined {
  // a terminal phase is named after the event that ended the deployment (deploy.<phase>)
  if (isTerminal(state.phase)) return exitCodeOf(`bluegreen.deploy.${state.phase}`);
  return state.phase === "monitoring" && until === "switched" ? ExitCode.ok : undefined;
}
