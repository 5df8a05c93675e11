import {
  type BgEvent,
  type Color,
  type ErrorCode,
  type ErrorInfo,
  type ErrorParams,
  type EventData,
  eventSubject,
} from "@bluegreen/contracts";
import { type Decision, type Draft, errorInfo } from "./draft.ts";
import { isTerminal, Phase } from "./phases.ts";
import type { Rollback } from "./state.ts";

/**
 * The moves every handler shares: end the deployment (lock released first, then the event),
 * send a fenced switch, start a rollback, refuse a request.
 */

type FailedData = EventData<"deploy.failed">;
export type FailStage = FailedData["stage"];

/** Terminal outcome: release the lock, enter the phase, then publish the closing event. */
function end(
  d: Draft,
  phase: Phase,
  outcome: { event: string; code?: string; message?: string; trafficAtRisk?: boolean },
): void {
  d.command({ kind: "releaseLock" });
  d.to(phase);
  d.set({ outcome: { at: d.nowIso, ...outcome } });
  const { pending: _p, reopen: _r, ...rest } = d.state;
  d.state = rest;
}

export function fail(
  d: Draft,
  f: {
    stage: FailStage;
    error: ErrorInfo;
    node?: string | undefined;
    activeColor?: Color | null | undefined;
    trafficAtRisk?: boolean;
    /** False when an agent already published the failure. */
    publish?: boolean;
    /** The data of the failure an agent published (kept to answer a repeated request). */
    published?: FailedData;
  },
): Decision {
  const s = d.state;
  const trafficAtRisk = f.trafficAtRisk ?? false;
  end(d, Phase.failed, {
    event: "deploy.failed",
    code: f.error.code,
    message: f.error.message,
    trafficAtRisk,
  });
  if (f.published !== undefined) {
    const outcome = d.state.outcome;
    if (outcome !== undefined) d.set({ outcome: { ...outcome, data: { ...f.published } } });
  }
  if (f.publish !== false) {
    d.publish("deploy.failed", {
      stage: f.stage,
      error: f.error,
      version: s.version,
      ...(f.node === undefined ? {} : { node: f.node }),
      ...(s.plan === undefined ? {} : { color: s.plan.targetColor }),
      ...(f.activeColor === undefined ? {} : { activeColor: f.activeColor }),
      trafficAtRisk,
    });
  }
  return d.done(
    trafficAtRisk
      ? `FAILED at ${f.stage}: TRAFFIC MAY BE ON A BAD COLOUR: ${f.error.message}`
      : `failed at ${f.stage}: ${f.error.message}`,
  );
}

export function timeoutError(d: Draft, phase: Phase): ErrorInfo {
  return errorInfo("BG_ERR_DEPLOY_TIMEOUT", {
    deploymentId: d.state.deploymentId,
    phase,
    timeoutMs: d.state.deadline?.timeoutMs ?? 0,
  });
}

export function succeed(d: Draft): Decision {
  const s = d.state;
  const plan = s.plan;
  if (plan === undefined) return d.done("cannot succeed without a plan");
  end(d, Phase.succeeded, { event: "deploy.succeeded" });
  d.publish("deploy.succeeded", {
    version: s.version,
    color: plan.targetColor,
    previousColor: plan.activeColor,
    durationMs: Math.max(0, d.ctx.now.getTime() - Date.parse(s.requestedAt)),
    phases: d.state.phases,
  });
  return d.done(`succeeded: ${plan.targetColor} serves ${s.version}`);
}

export function abort(
  d: Draft,
  a: { by: string; reason?: string | undefined; phase: string; trafficMovedBack: boolean },
): Decision {
  end(d, Phase.aborted, { event: "deploy.aborted", code: "BG_ERR_DEPLOY_ABORTED" });
  d.publish("deploy.aborted", {
    by: a.by,
    ...(a.reason === undefined ? {} : { reason: a.reason }),
    phase: a.phase,
    trafficMovedBack: a.trafficMovedBack,
  });
  return d.done(`aborted in ${a.phase} by ${a.by}`);
}

export function reject(
  d: Draft,
  r: { code: ErrorCode; params: ErrorParams; runningDeploymentId?: string | undefined },
): Decision {
  const error = errorInfo(r.code, r.params);
  end(d, Phase.rejected, { event: "deploy.rejected", code: error.code, message: error.message });
  d.publish("deploy.rejected", {
    version: d.state.version.slice(0, 200),
    error,
    ...(r.runningDeploymentId === undefined ? {} : { runningDeploymentId: r.runningDeploymentId }),
  });
  return d.done(`rejected: ${error.message}`);
}

/** Answers an operator request that cannot be honoured with a coded `agent.rejected`. */
export function refuse(
  d: Draft,
  request: { id: string; type: string; subject: string; excerpt: string },
  code: ErrorCode,
  params: ErrorParams,
): Decision {
  const error = errorInfo(code, params);
  d.publish("agent.rejected", {
    code: error.code,
    message: error.message,
    issues: [],
    rejectedBy: d.ctx.source.slice(0, 128),
    originalSubject: request.subject.slice(0, 512),
    originalId: request.id.slice(0, 128),
    originalType: request.type.slice(0, 128),
    excerpt: request.excerpt.slice(0, 512),
  });
  return d.done(`request refused: ${error.message}`);
}

export function requestOf(event: BgEvent): {
  id: string;
  type: string;
  subject: string;
  excerpt: string;
} {
  const name = event.type.slice("bluegreen.".length);
  return {
    id: event.id,
    type: event.type,
    subject: eventSubject(event.subject, name),
    excerpt: JSON.stringify(event).slice(0, 512),
  };
}

export function wrongPhase(d: Draft, event: BgEvent, action: string): Decision {
  return refuse(d, requestOf(event), "BG_ERR_DEPLOY_WRONG_PHASE", {
    deploymentId: d.state.deploymentId,
    phase: d.state.phase,
    action,
  });
}

/** Sends the one fenced switch of this deployment and enters the phase that waits for it. */
export function startSwitch(
  d: Draft,
  s: {
    to: Color;
    reason: "promote" | "rollback";
    expectedRevision: number;
    by?: string | undefined;
  },
): void {
  d.set({
    switch: {
      to: s.to,
      reason: s.reason,
      expectedRevision: s.expectedRevision,
      requestedAt: d.nowIso,
    },
  });
  d.to(s.reason === "promote" ? Phase.switching : Phase.rolling_back);
  const version = s.reason === "promote" ? d.state.version : d.state.plan?.previousVersion;
  d.publish("switch.requested", {
    to: s.to,
    reason: s.reason,
    expectedRevision: s.expectedRevision,
    ...(version === undefined || version === null ? {} : { version: version.slice(0, 200) }),
    ...(s.by === undefined ? {} : { by: s.by }),
    ...(d.state.deadline === undefined ? {} : { deadline: d.state.deadline.at }),
  });
}

/**
 * Traffic goes back to the colour that served before this deployment, fenced on the revision
 * our own promotion wrote. Without a previous colour there is nowhere to go: that is a failure
 * with traffic at risk.
 */
export function beginRollback(
  d: Draft,
  r: Omit<Rollback, "to" | "afterSuccess"> & { afterSuccess?: boolean; expectedRevision?: number },
): Decision {
  const plan = d.state.plan;
  const previous = plan?.activeColor ?? null;
  if (plan === undefined || previous === null) {
    return fail(d, {
      stage: "rollback",
      error: errorInfo("BG_ERR_DEPLOY_NO_PREVIOUS", { deploymentId: d.state.deploymentId }),
      activeColor: plan?.targetColor ?? null,
      trafficAtRisk: r.cause !== "manual" && r.cause !== "abort",
    });
  }
  const { expectedRevision, ...rest } = r;
  const rollback: Rollback = { ...rest, to: previous, afterSuccess: r.afterSuccess ?? false };
  d.set({ rollback });
  startSwitch(d, {
    to: previous,
    reason: "rollback",
    expectedRevision: expectedRevision ?? d.state.switchedRevision ?? plan.activeRevision,
    by: r.by,
  });
  return d.done(`rolling back to ${previous} (${r.cause})`);
}

export function isOver(d: Draft): boolean {
  return isTerminal(d.state.phase);
}
