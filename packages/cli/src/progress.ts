import type { AnyBgEvent } from "@bluegreen/contracts";
import { BgError, type BgEvent } from "@bluegreen/contracts";
import { ExitCode } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";
import { summarize } from "./timeline.ts";
import type { WatchResult } from "./wait.ts";

/** A line per event: `10:00:01.234  switch.done  blue → green (…)`, or the event as JSON. */
export function progressPrinter(io: CliIo, json: boolean): (event: BgEvent) => void {
  return (event) => {
    if (json) {
      io.out(JSON.stringify(event));
      return;
    }
    const time = event.time.slice(11, 23);
    const name = event.type.replace(/^bluegreen\./, "");
    io.out(`${time}  ${name.padEnd(25)}  ${summarize(event as AnyBgEvent)}`);
  };
}

const WORDS: Record<number, string> = {
  [ExitCode.ok]: "succeeded",
  [ExitCode.rejected]: "rejected",
  [ExitCode.failed]: "FAILED",
  [ExitCode.rolledBack]: "ROLLED BACK",
  [ExitCode.aborted]: "aborted",
};

/** The last word of a wait: the outcome (or the timeout) and the exit code. */
export function printOutcome(
  io: CliIo,
  json: boolean,
  result: WatchResult,
  ctx: { deploymentId: string | undefined; timeoutMs: number },
): ExitCode {
  if (result.timedOut || result.code === ExitCode.timedOut) {
    const last = result.last?.type.replace(/^bluegreen\./, "") ?? "no event yet";
    const err = new BgError("BG_ERR_CLI_TIMEOUT", {
      timeoutMs: ctx.timeoutMs,
      deploymentId: ctx.deploymentId ?? "(none)",
      phase: `still running (last event: ${last})`,
    });
    io.err(`${err.code}: ${err.message}`);
    return ExitCode.timedOut;
  }
  if (!json)
    io.out(`${ctx.deploymentId ?? "request"}: ${WORDS[result.code] ?? `exit ${result.code}`}`);
  return result.code;
}
