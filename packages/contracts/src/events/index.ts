import { agentHeartbeat, agentRejected, agentStale, configApplied } from "./agent.ts";
import { auditCheckpoint } from "./audit.ts";
import {
  deployAborted,
  deployAbortRequested,
  deployAwaitingPromotion,
  deployFailed,
  deployProgress,
  deployPromoteRequested,
  deployReady,
  deployRejected,
  deployRequested,
  deployRollbackRequested,
  deployRolledBack,
  deployStarted,
  deploySucceeded,
} from "./deploy.ts";
import { freezeLifted, freezeSet } from "./freeze.ts";
import {
  monitorPassed,
  monitorStarted,
  monitorStopped,
  sloBreached,
  sloInconclusive,
  sloWarning,
} from "./monitor.ts";
import { smokeFailed, smokePassed } from "./smoke.ts";
import { switchDone, switchDrift, switchFailed, switchRequested } from "./switch.ts";

/** Every event bluegreen knows, keyed by its short name (`deploy.requested`). */
export const EVENTS = {
  "deploy.requested": deployRequested,
  "deploy.rejected": deployRejected,
  "deploy.started": deployStarted,
  "deploy.progress": deployProgress,
  "deploy.ready": deployReady,
  "deploy.failed": deployFailed,
  "deploy.awaiting_promotion": deployAwaitingPromotion,
  "deploy.promote_requested": deployPromoteRequested,
  "deploy.abort_requested": deployAbortRequested,
  "deploy.rollback_requested": deployRollbackRequested,
  "deploy.aborted": deployAborted,
  "deploy.succeeded": deploySucceeded,
  "deploy.rolled_back": deployRolledBack,
  "smoke.passed": smokePassed,
  "smoke.failed": smokeFailed,
  "switch.requested": switchRequested,
  "switch.done": switchDone,
  "switch.failed": switchFailed,
  "switch.drift": switchDrift,
  "monitor.started": monitorStarted,
  "monitor.passed": monitorPassed,
  "monitor.stopped": monitorStopped,
  "slo.warning": sloWarning,
  "slo.breached": sloBreached,
  "slo.inconclusive": sloInconclusive,
  "freeze.set": freezeSet,
  "freeze.lifted": freezeLifted,
  "config.applied": configApplied,
  "agent.heartbeat": agentHeartbeat,
  "agent.rejected": agentRejected,
  "agent.stale": agentStale,
  "audit.checkpoint": auditCheckpoint,
} as const;

export type EventName = keyof typeof EVENTS;
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];

export function isEventName(value: unknown): value is EventName {
  return typeof value === "string" && Object.hasOwn(EVENTS, value);
}

export { AgentRole, agentRoleSchema } from "./agent.ts";
export { CHECKPOINT_DIGEST_BYTES, MAX_CHECKPOINT_EVENTS } from "./audit.ts";
export type { ErrorInfo, NodeRef } from "./common.ts";
export { errorInfoSchema, nodeId, nodeIdSchema, nodeRefSchema } from "./common.ts";
export type { DeploymentIdRule, EventSpec } from "./define.ts";
export { freezeScopeSchema } from "./freeze.ts";
export type { SmokeCheckResult } from "./smoke.ts";
export { smokeCheckResultSchema } from "./smoke.ts";
export type { SwitchReason } from "./switch.ts";
export { switchReasonSchema } from "./switch.ts";
