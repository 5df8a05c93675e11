import {
  type BgEvent,
  type Color,
  createEvent,
  type EventDataInput,
  type EventName,
} from "@bluegreen/contracts";
import { decide } from "../decide.ts";
import type { DecideContext, Input } from "./inputs.ts";
import type { Phase } from "./phases.ts";
import type { DeploymentState, Plan } from "./state.ts";

/**
 * Fixtures for the decision tests (and the fleet bench): one deployment of `emily` v1.1 to
 * green while blue serves v1.0, and the inputs that walk it through every phase.
 */

export const SERVICE = "emily";
export const DEPLOYMENT_ID = "d-20261126-test01";
export const VERSION = "v1.1";
export const T0 = Date.parse("2026-11-26T10:00:00.000Z");
export const SOURCE = "coordinator/test";

export function ctxAt(ms: number): DecideContext {
  return { now: new Date(ms), source: SOURCE };
}

export function planFixture(overrides: Partial<Plan> = {}): Plan {
  return {
    targetColor: "green",
    activeColor: "blue",
    previousVersion: "v1.0",
    activeRevision: 7,
    nodes: [{ host: "127.0.0.1", port: 8002 }],
    manualPromotion: false,
    timeouts: {
      deployMs: 60_000,
      readinessMs: 30_000,
      smokeMs: 10_000,
      promotionMs: 3_600_000,
      switchMs: 30_000,
      monitorWindowMs: 60_000,
      monitorIntervalMs: 5_000,
    },
    ...overrides,
  };
}

let counter = 0;
/** An event for the test deployment; ids are unique unless given. */
export function ev<N extends EventName>(
  name: N,
  data: EventDataInput<N>,
  opts: { id?: string; time?: number; deploymentId?: string | null; service?: string } = {},
): BgEvent<N> {
  counter += 1;
  return createEvent(name, {
    service: opts.service ?? SERVICE,
    source: "test",
    ...(opts.deploymentId === null ? {} : { deploymentId: opts.deploymentId ?? DEPLOYMENT_ID }),
    id: opts.id ?? `e-${counter}`,
    time: new Date(opts.time ?? T0),
    data,
  });
}

const node = (p: Plan, i = 0) => {
  const n = p.nodes[i] ?? p.nodes[0];
  return n === undefined ? "127.0.0.1:1" : `${n.host}:${n.port}`;
};

/** One canonical input of each kind, about the test deployment (`plan` decides nodes/colours). */
export function inputs(plan: Plan = planFixture(), at = T0) {
  const target = plan.targetColor;
  const previous: Color = plan.activeColor ?? "blue";
  const e = <N extends EventName>(name: N, data: EventDataInput<N>): Input =>
    ({ kind: "event", event: ev(name, data, { time: at }) }) as Input;
  const smoke = { node: node(plan), color: target, version: VERSION, durationMs: 5, checks: [] };
  return {
    requested: () => e("deploy.requested", { version: VERSION }),
    /** The same request id again, as a new stream message (a CI retry, hours later). */
    requestedAgain: () => ({ ...e("deploy.requested", { version: VERSION }), seq: 99 }) as Input,
    progressLast: () =>
      e("deploy.progress", {
        node: node(plan),
        color: target,
        version: VERSION,
        step: 2,
        steps: 2,
        command: ["true"],
        status: "succeeded",
      }),
    ready: () =>
      e("deploy.ready", {
        node: node(plan),
        color: target,
        version: VERSION,
        durationMs: 5,
        attempts: 1,
      }),
    smokePassed: (i = 0) => e("smoke.passed", { ...smoke, node: node(plan, i) }),
    smokeFailed: () =>
      e("smoke.failed", {
        ...smoke,
        error: { code: "BG_ERR_SMOKE_FAILED", message: "smoke checks failed", retryable: false },
      }),
    agentFailed: () =>
      e("deploy.failed", {
        stage: "deploy",
        error: { code: "BG_ERR_STEP_FAILED", message: "step 1 failed", retryable: false },
        node: node(plan),
        color: target,
      }),
    switchDonePromote: () =>
      e("switch.done", {
        from: previous,
        to: target,
        changed: true,
        reason: "promote",
        revision: 8,
        timings: { totalMs: 40 },
      }),
    switchDoneRollback: () =>
      e("switch.done", {
        from: target,
        to: previous,
        changed: true,
        reason: "rollback",
        revision: 9,
        timings: { totalMs: 40 },
      }),
    switchFailedPromote: () =>
      e("switch.failed", {
        to: target,
        reason: "promote",
        stage: "test",
        error: {
          code: "BG_ERR_SWITCH_NGINX_TEST_FAILED",
          message: "nginx -t failed",
          retryable: false,
        },
        restored: true,
        activeColor: previous,
      }),
    switchFailedRollback: () =>
      e("switch.failed", {
        to: previous,
        reason: "rollback",
        stage: "probe",
        error: {
          code: "BG_ERR_SWITCH_TARGET_NOT_READY",
          message: "blue is not ready",
          retryable: true,
        },
        restored: true,
        activeColor: target,
      }),
    monitorStarted: () =>
      e("monitor.started", {
        color: target,
        instances: [node(plan)],
        source: "scrape",
        windowMs: 60_000,
        intervalMs: 5_000,
        deadline: new Date(at + 60_000).toISOString(),
        resumed: false,
      }),
    monitorPassed: () =>
      e("monitor.passed", {
        color: target,
        checks: 12,
        warnings: 0,
        inconclusive: 0,
        durationMs: 60_000,
      }),
    sloBreached: () =>
      e("slo.breached", {
        slo: "error-ratio",
        color: target,
        checks: 3,
        value: 0.5,
        threshold: 0.05,
        breaches: 1,
        limit: 1,
        action: "rollback",
      }),
    sloInconclusiveLimit: () =>
      e("slo.inconclusive", {
        slo: "error-ratio",
        color: target,
        checks: 3,
        reason: "unreachable",
        count: 3,
        limit: 3,
        limitReached: true,
        action: "rollback",
      }),
    promote: () => e("deploy.promote_requested", { by: "alice" }),
    abort: () => e("deploy.abort_requested", { by: "alice", reason: "wrong tag" }),
    rollback: () => e("deploy.rollback_requested", { by: "alice" }),
    preflightOk: (): Input => ({ kind: "preflight", outcome: { ok: true, plan } }),
    preflightRejected: (): Input => ({
      kind: "preflight",
      outcome: {
        ok: false,
        code: "BG_ERR_CONFIG_UNKNOWN_SERVICE",
        params: { service: SERVICE },
      },
    }),
    lockAcquired: (): Input => ({
      kind: "lock",
      outcome: {
        acquired: true,
        active: {
          record: {
            color: target,
            version: VERSION,
            switchedAt: new Date(at).toISOString(),
            deploymentId: DEPLOYMENT_ID,
            reason: "promote",
          },
          revision: 8,
        },
      },
    }),
    lockBusy: (): Input => ({ kind: "lock", outcome: { acquired: false, holder: "d-other" } }),
  };
}
export type InputKind = keyof ReturnType<typeof inputs>;
export const INPUT_KINDS = Object.keys(inputs()) as InputKind[];

/** The deadline tick for whatever deadline the state has armed. */
export function deadlineTick(state: DeploymentState): Input {
  const at = state.deadline?.at ?? new Date(T0).toISOString();
  return { kind: "deadline", phase: state.phase, at };
}

/** Walks a fresh deployment into `phase` through real decisions. */
export function stateIn(phase: Phase, plan: Plan = planFixture()): DeploymentState {
  const i = inputs(plan);
  const manual = planFixture({ ...plan, manualPromotion: true });
  const steps: Record<Phase, { plan?: Plan; path: (() => Input)[] }> = {
    requested: { path: [i.requested] },
    deploying: { path: [i.requested, i.preflightOk] },
    readiness: { path: [i.requested, i.preflightOk, i.progressLast] },
    smoke: { path: [i.requested, i.preflightOk, i.ready] },
    awaiting_promotion: {
      plan: manual,
      path: [
        i.requested,
        () => ({ kind: "preflight", outcome: { ok: true, plan: manual } }),
        i.smokePassed,
      ],
    },
    switching: { path: [i.requested, i.preflightOk, i.smokePassed] },
    monitoring: { path: [i.requested, i.preflightOk, i.smokePassed, i.switchDonePromote] },
    succeeded: {
      path: [i.requested, i.preflightOk, i.smokePassed, i.switchDonePromote, i.monitorPassed],
    },
    rolling_back: {
      path: [i.requested, i.preflightOk, i.smokePassed, i.switchDonePromote, i.sloBreached],
    },
    rolled_back: {
      path: [
        i.requested,
        i.preflightOk,
        i.smokePassed,
        i.switchDonePromote,
        i.sloBreached,
        i.switchDoneRollback,
      ],
    },
    failed: { path: [i.requested, i.preflightOk, i.smokeFailed] },
    aborted: { path: [i.requested, i.preflightOk, i.abort] },
    rejected: { path: [i.requested, i.preflightRejected] },
  };
  let state: DeploymentState | undefined;
  let now = T0;
  for (const next of steps[phase].path) {
    now += 1_000;
    state = decide(state, next(), ctxAt(now)).state;
  }
  if (state === undefined || state.phase !== phase)
    throw new Error(`fixture for ${phase} ended in ${state?.phase}`);
  return state;
}
