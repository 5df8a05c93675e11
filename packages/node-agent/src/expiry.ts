import type { BgEvent, ServiceDefinition } from "@bluegreen/contracts";

/**
 * The coordinator's grace on top of the definition's timeouts (coordinator
 * `core/deadlines.ts`, `DEADLINE_GRACE_MS`): its `deploying` deadline is
 * `deploy.timeout + readiness.timeout + 5 s` after it published `deploy.started`.
 */
export const COORDINATOR_GRACE_MS = 5_000;

/**
 * When the coordinator gives up on a `deploy.started` (the `deadline` it carries, or, in an
 * event from before it carried one, the coordinator's formula on the event's time): past this instant it has failed the
 * deployment (`BG_ERR_DEPLOY_TIMEOUT`, stage `deploy`) and released the lock, so running the
 * steps now would deploy for a deployment that has ended. A `deploy.started` that reaches an
 * agent this late is a redelivery to an agent that crashed mid-deploy and came back after
 * the deadline (or one that was cut from NATS that long).
 */
export function startedExpiresAt(
  started: Pick<BgEvent<"deploy.started">, "time"> & {
    readonly data?: Pick<BgEvent<"deploy.started">["data"], "deadline">;
  },
  definition: {
    readonly deploy: Pick<ServiceDefinition["deploy"], "timeout">;
    readonly readiness: Pick<ServiceDefinition["readiness"], "timeout">;
  },
): number {
  // The coordinator's own deadline when the event carries it; older events: its formula.
  const carried = started.data?.deadline;
  if (carried !== undefined) return Date.parse(carried);
  return (
    Date.parse(started.time) +
    definition.deploy.timeout +
    definition.readiness.timeout +
    COORDINATOR_GRACE_MS
  );
}
