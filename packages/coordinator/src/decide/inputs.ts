import type { ActiveRecord, BgEvent, ErrorCode, ErrorParams } from "@bluegreen/contracts";
import type { Phase } from "./phases.ts";
import type { Plan } from "./state.ts";

/** The events the coordinator consumes; everything else on the stream is not its business. */
export const CONSUMED_EVENTS = [
  "deploy.requested",
  "deploy.progress",
  "deploy.ready",
  "smoke.passed",
  "smoke.failed",
  "deploy.failed",
  "switch.done",
  "switch.failed",
  "monitor.started",
  "monitor.passed",
  "slo.breached",
  "slo.inconclusive",
  "deploy.promote_requested",
  "deploy.abort_requested",
  "deploy.rollback_requested",
] as const;
export type ConsumedEventName = (typeof CONSUMED_EVENTS)[number];
export type ConsumedEvent = { [N in ConsumedEventName]: BgEvent<N> }[ConsumedEventName];

/** Pre-flight's verdict, lock included: a plan to run, or a coded refusal. */
export type PreflightOutcome = { ok: true; plan: Plan } | PreflightRefusal;

/** Why pre-flight said no. */
export interface PreflightRefusal {
  ok: false;
  code: ErrorCode;
  params: ErrorParams;
  /** The refusal is "busy": a queued request waits instead of being rejected. */
  busy?: boolean;
  runningDeploymentId?: string;
}

/** The answer to a lock request made for a rollback after success. */
export type LockOutcome =
  | {
      acquired: true;
      /** The active-colour record now, and its revision (the rollback's fence). */
      active?: { record: ActiveRecord; revision: number };
      /** Versions the previous colour's nodes report in their heartbeats, when known. */
      previousColorVersions?: readonly string[];
    }
  | { acquired: false; holder: string; phase?: string };

/** Everything that can happen to a deployment. */
export type Input =
  /** `seq`: the event's stream sequence, when known (tells a redelivery from a new request). */
  | { kind: "event"; event: ConsumedEvent; seq?: number }
  /** A phase deadline came due (`deadline.passed`); `at` is the deadline that was armed. */
  | { kind: "deadline"; phase: Phase; at: string }
  | { kind: "preflight"; outcome: PreflightOutcome }
  | { kind: "lock"; outcome: LockOutcome };

/** What `decide` is told besides the state and the input. */
export interface DecideContext {
  now: Date;
  /** CloudEvents `source` of what the coordinator publishes (`coordinator/<agentId>`). */
  source: string;
}

/** A union of events narrowable by `type` (BgEvent<A | B> is not). */
export type EventOf<N extends ConsumedEventName> = { [K in N]: BgEvent<K> }[N];
