import type { BgError, BgEvent, Color, EventDataInput, EventName } from "@bluegreen/contracts";
import { createEvent } from "@bluegreen/contracts";

/**
 * The events a node agent publishes about one node's deploy, each family built in one place:
 * `deploy.progress`, `deploy.ready`, `smoke.passed` / `smoke.failed` and `deploy.failed`.
 */

export type EventMaker = <N extends EventName>(name: N, data: EventDataInput<N>) => BgEvent<N>;

/** Events of one deployment of one service, from this agent (`source`). */
export function eventMaker(service: string, deploymentId: string, source: string): EventMaker {
  return (name, data) => createEvent(name, { service, source, data, deploymentId });
}

/** What every event about one node's deploy says: which node, colour and version. */
export interface NodeEventBase {
  readonly node: string;
  readonly color: Color;
  readonly version: string;
}

export type FailedStage = "deploy" | "readiness" | "smoke";

export interface FailureDetail {
  step?: number;
  exitCode?: number | null;
  outputTail?: string;
  lastAnswer?: string;
}

/** `deploy.failed`: where (stage, step) and why (the coded error); traffic never moved. */
export function deployFailed(
  make: EventMaker,
  of: NodeEventBase & { readonly activeColor: Color | null },
  stage: FailedStage,
  error: BgError,
  detail: FailureDetail = {},
): BgEvent<"deploy.failed"> {
  const { activeColor, ...base } = of;
  return make("deploy.failed", {
    stage,
    error: error.toJSON(),
    ...base,
    ...detail,
    activeColor,
    trafficAtRisk: false,
  });
}

/** `deploy.progress`: one step started, or how it ended. */
export function stepProgress(
  make: EventMaker,
  of: NodeEventBase,
  step: { readonly step: number; readonly steps: number; readonly command: string[] },
  status: EventDataInput<"deploy.progress">["status"],
  ended: Pick<EventDataInput<"deploy.progress">, "durationMs" | "exitCode" | "outputTail"> = {},
): BgEvent<"deploy.progress"> {
  return make("deploy.progress", { ...of, ...step, status, ...ended });
}

/** `deploy.ready`: the node answered its readiness path as expected. */
export function deployReady(
  make: EventMaker,
  of: NodeEventBase,
  readiness: { readonly durationMs: number; readonly attempts: number },
): BgEvent<"deploy.ready"> {
  return make("deploy.ready", {
    ...of,
    durationMs: readiness.durationMs,
    attempts: readiness.attempts,
  });
}

/** `smoke.passed`, or `smoke.failed` with the coded error naming the checks that failed. */
export function smokeVerdict(
  make: EventMaker,
  report: EventDataInput<"smoke.passed">,
  error?: BgError,
): BgEvent<"smoke.passed"> | BgEvent<"smoke.failed"> {
  return error === undefined
    ? make("smoke.passed", report)
    : make("smoke.failed", { ...report, error: error.toJSON() });
}
