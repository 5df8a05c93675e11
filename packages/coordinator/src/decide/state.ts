import { colorSchema, nodeRefSchema } from "@bluegreen/contracts";
import { z } from "zod";
import { NodeStage, PHASES, type Phase } from "./phases.ts";

/**
 * A deployment as the coordinator stores it (KV `bluegreen_deployments`, key
 * `<service>.<deploymentId>`, written with compare-and-set). Everything `decide` needs is in
 * here, so a coordinator that restarts, or a standby that takes over, continues from it.
 */

const iso = z.iso.datetime({ offset: true });
const phaseSchema = z.enum(PHASES as [Phase, ...Phase[]]);

/** What pre-flight fixed for this deployment: the colours, the nodes, the fence, the timeouts. */
export const planSchema = z.object({
  targetColor: colorSchema,
  /** The colour serving when the deployment began (null: nothing served yet). */
  activeColor: colorSchema.nullable(),
  previousVersion: z.string().max(200).nullable(),
  /** Revision of the active-colour record pre-flight read: the promote switch's fence. */
  activeRevision: z.int().min(0),
  nodes: z.array(nodeRefSchema).min(1).max(64),
  /** Stop after smoke and wait for `deploy.promote_requested` (definition or request). */
  manualPromotion: z.boolean(),
  timeouts: z.object({
    deployMs: z.number().min(0),
    readinessMs: z.number().min(0),
    smokeMs: z.number().min(0),
    promotionMs: z.number().min(0),
    switchMs: z.number().min(0),
    monitorWindowMs: z.number().min(0),
    monitorIntervalMs: z.number().min(0),
  }),
});
export type Plan = z.infer<typeof planSchema>;

export const switchReasonStateSchema = z.enum(["promote", "rollback"]);

/** The one switch this deployment has in flight, if any. */
export const inflightSwitchSchema = z.object({
  to: colorSchema,
  reason: switchReasonStateSchema,
  expectedRevision: z.int().min(0),
  requestedAt: iso,
});
export type InflightSwitch = z.infer<typeof inflightSwitchSchema>;

export const rollbackCauseSchema = z.enum(["slo_breach", "inconclusive_limit", "manual", "abort"]);
export type RollbackCause = z.infer<typeof rollbackCauseSchema>;

export const rollbackSchema = z.object({
  cause: rollbackCauseSchema,
  to: colorSchema,
  /** When the cause happened (the breach event's time): time to rollback counts from here. */
  since: iso,
  by: z.string().max(128).optional(),
  reason: z.string().max(512).optional(),
  breach: z
    .object({
      slo: z.string().max(128),
      value: z.number().nullable(),
      threshold: z.number(),
      query: z.string().max(2048).optional(),
    })
    .optional(),
  /** A rollback requested after the deployment had already succeeded (after the window). */
  afterSuccess: z.boolean().default(false),
  /** The phase the deployment was in when the rollback (or abort) was asked for. */
  requestedIn: z.string().max(32).optional(),
});
export type Rollback = z.infer<typeof rollbackSchema>;

/** An operator request remembered until it can act (abort/rollback during a switch). */
export const pendingRequestSchema = z.object({
  kind: z.enum(["abort", "rollback"]),
  by: z.string().max(128).optional(),
  reason: z.string().max(512).optional(),
  at: iso,
});

/** A request that needs the lock again (rollback after success) and the id to answer. */
export const reopenSchema = z.object({
  by: z.string().max(128).optional(),
  reason: z.string().max(512).optional(),
  at: iso,
  requestId: z.string().max(128),
  requestSubject: z.string().max(512),
});
export type Reopen = z.infer<typeof reopenSchema>;

export const deadlineSchema = z.object({
  phase: phaseSchema,
  at: iso,
  timeoutMs: z.number().min(0),
});
export type Deadline = z.infer<typeof deadlineSchema>;

export const outcomeSchema = z.object({
  at: iso,
  event: z.string().max(64),
  code: z.string().max(64).optional(),
  message: z.string().max(2048).optional(),
  trafficAtRisk: z.boolean().optional(),
  /** The closing event's data, to answer a repeated request with (absent before 0.2). */
  data: z.record(z.string(), z.unknown()).optional(),
});

export const deploymentStateSchema = z.object({
  v: z.literal(1),
  service: z.string().max(63),
  deploymentId: z.string().max(64),
  version: z.string().max(200),
  phase: phaseSchema,
  requestId: z.string().max(128),
  /** Stream sequence of the request: its redelivery is told from a repeat of the same id. */
  requestSeq: z.int().min(0).optional(),
  requestedAt: iso,
  requestedBy: z.string().max(128).optional(),
  reason: z.string().max(512).optional(),
  queued: z.boolean(),
  manualPromotion: z.boolean(),
  plan: planSchema.optional(),
  /** Per node id (`host:port`), how far the node got. */
  nodes: z.record(z.string(), z.enum(Object.values(NodeStage) as [NodeStage, ...NodeStage[]])),
  switch: inflightSwitchSchema.optional(),
  /** Revision of the active record after the promote switch: the rollback's fence. */
  switchedRevision: z.int().min(0).optional(),
  switchedAt: iso.optional(),
  pending: pendingRequestSchema.optional(),
  rollback: rollbackSchema.optional(),
  reopen: reopenSchema.optional(),
  /** When the monitor says its window ends. */
  monitorUntil: iso.optional(),
  deadline: deadlineSchema.optional(),
  phaseSince: iso,
  /** Time spent in each phase so far, in ms. */
  phases: z.record(z.string(), z.number().min(0)),
  outcome: outcomeSchema.optional(),
  /** Ids of the last events applied, so a redelivery changes nothing. */
  seen: z.array(z.string().max(128)).max(64),
  /** Counter for the ids of the events this deployment publishes (deterministic ids). */
  seq: z.int().min(0),
  updatedAt: iso,
});
export type DeploymentState = z.infer<typeof deploymentStateSchema>;

export const SEEN_LIMIT = 64;
