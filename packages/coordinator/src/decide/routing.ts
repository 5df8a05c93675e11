import { BgError, type BgEvent, createEvent, errorInfoSchema } from "@bluegreen/contracts";
import { deploymentIdOf } from "./deployment-id.ts";
import type { ConsumedEvent, DecideContext } from "./inputs.ts";

/**
 * Which deployment an event is for, and the answer to an event for a deployment nobody knows.
 * Pure: the shell gathers the facts (the deployments in flight, those stored) and carries the
 * answer out.
 */

/** The deployment an event names: a request's own id, else its `deploymentid` extension. */
export function deploymentOf(event: ConsumedEvent): string | undefined {
  return event.type === "bluegreen.deploy.requested" ? deploymentIdOf(event) : event.deploymentid;
}

/** A deployment as a rollback without an id chooses among them. */
export interface Candidate {
  deploymentId: string;
  phase: string;
  requestedAt: string;
}

const newest = (candidates: readonly Candidate[]) =>
  candidates
    .filter((c) => c.phase !== "rejected")
    .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt))[0]?.deploymentId;

/**
 * The deployment a rollback request without an id is for: the newest one that was not
 * rejected, one in flight before any stored. (The shell reads the stored ones only when none
 * in flight will do: `rollbackTarget(inFlight) ?? rollbackTarget(inFlight, stored)`.)
 */
export function rollbackTarget(
  inFlight: readonly Candidate[],
  stored: readonly Candidate[] = [],
): string | undefined {
  return newest(inFlight) ?? newest(stored);
}

/** How long an operator request for an unknown deployment is retried before it is refused. */
export const UNKNOWN_GRACE_MS = 10_000;

const OPERATOR_REQUESTS: readonly string[] = [
  "bluegreen.deploy.promote_requested",
  "bluegreen.deploy.abort_requested",
  "bluegreen.deploy.rollback_requested",
];

export type UnknownAnswer =
  /** Nothing to do (not an operator request). */
  | { kind: "ignore"; note: string }
  /** Too early to tell: the request may be for a deployment whose own request comes later. */
  | { kind: "defer"; note: string }
  /** Refused with a coded `agent.rejected` (BG_ERR_DEPLOY_NOT_FOUND). */
  | { kind: "refuse"; event: BgEvent; note: string };

/**
 * The answer to an event for a deployment nobody knows: `deploymentId` is the one it names,
 * undefined when it names none (a rollback request without an id that found no deployment).
 * An operator request is given UNKNOWN_GRACE_MS from its own time (its deployment's request
 * may be redelivered behind it), then refused; a rollback of "the latest" with none is refused
 * at once; anything else is left alone.
 */
export function unknownDeployment(
  event: ConsumedEvent,
  deploymentId: string | undefined,
  ctx: DecideContext,
): UnknownAnswer {
  if (deploymentId === undefined) {
    if (event.type === "bluegreen.deploy.rollback_requested")
      return refusal(event, "(latest)", ctx);
    return { kind: "ignore", note: "event without a deployment id (a manual switch?)" };
  }
  if (!OPERATOR_REQUESTS.includes(event.type))
    return { kind: "ignore", note: `no deployment ${deploymentId}` };
  if (ctx.now.getTime() - Date.parse(event.time) < UNKNOWN_GRACE_MS)
    return { kind: "defer", note: `deployment ${deploymentId} not known yet` };
  return refusal(event, deploymentId, ctx);
}

function refusal(event: ConsumedEvent, id: string, ctx: DecideContext): UnknownAnswer {
  return { kind: "refuse", event: notFound(event, id, ctx), note: `no deployment ${id}` };
}

/** The answer to an operator request for a deployment nobody knows. */
function notFound(event: ConsumedEvent, id: string, ctx: DecideContext): BgEvent {
  return rejection(
    event,
    new BgError("BG_ERR_DEPLOY_NOT_FOUND", { deploymentId: id, service: event.subject }),
    ctx,
  );
}

/** The answer to a node event from an agent that does not serve that node. */
export function notServing(
  event: ConsumedEvent,
  about: { node: string; color: string },
  reason: string,
  ctx: DecideContext,
): BgEvent {
  const { type, source, subject: service } = event;
  const params = { type, source, service, reason, ...about };
  return rejection(event, new BgError("BG_ERR_AGENT_NOT_SERVING", params), ctx);
}

/** A coded `agent.rejected` answering `event`. */
function rejection(event: ConsumedEvent, coded: BgError, ctx: DecideContext): BgEvent {
  const error = errorInfoSchema.parse(coded.toJSON());
  const name = event.type.slice("bluegreen.".length);
  return createEvent("agent.rejected", {
    service: event.subject,
    source: ctx.source,
    id: `rej-${event.id}`.slice(0, 128),
    time: ctx.now,
    ...(event.deploymentid === undefined ? {} : { deploymentId: event.deploymentid }),
    data: {
      code: error.code,
      message: error.message,
      issues: [],
      rejectedBy: ctx.source.slice(0, 128),
      originalSubject: `bluegreen.${event.subject}.${name}`,
      originalId: event.id,
      originalType: event.type,
      excerpt: JSON.stringify(event).slice(0, 512),
    },
  }) as BgEvent;
}
