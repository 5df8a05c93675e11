import { z } from "zod";
import { colorSchema } from "../names.ts";
import { durationMsSchema, text } from "./common.ts";
import { defineEvent } from "./define.ts";

/** nginx source: requests judged, real ones and the monitor's probes apart. */
const evidenceSchema = z.strictObject({
  requests: z.int().min(0),
  probes: z.int().min(0),
});

export const monitorStarted = defineEvent({
  name: "monitor.started",
  description:
    "The SLO watch began after a promotion (or resumed after a monitor restart, `resumed: true`).",
  route: "monitor → coordinator, audit",
  data: () =>
    z.strictObject({
      color: colorSchema,
      version: text(200).optional(),
      instances: z.array(text(300)).max(64),
      source: z.enum(["prometheus", "scrape", "nginx"]),
      windowMs: durationMsSchema,
      intervalMs: durationMsSchema,
      deadline: z.iso.datetime({ offset: true }),
      resumed: z.boolean(),
    }),
  example: {
    color: "green",
    version: "v1.1",
    instances: ["10.0.0.11:8000"],
    source: "prometheus",
    windowMs: 1_800_000,
    intervalMs: 60_000,
    deadline: "2026-11-26T11:30:00.000Z",
    resumed: false,
  },
});

export const monitorPassed = defineEvent({
  name: "monitor.passed",
  description: "The watch window ended with no breach that asks for a rollback.",
  route: "monitor → coordinator, audit",
  data: () =>
    z.strictObject({
      color: colorSchema,
      checks: z.int().min(0),
      warnings: z.int().min(0),
      inconclusive: z.int().min(0),
      durationMs: durationMsSchema,
      /** nginx source: the requests judged over the window, real ones and probes apart. */
      evidence: evidenceSchema.optional(),
    }),
  example: { color: "green", checks: 30, warnings: 0, inconclusive: 1, durationMs: 1_800_000 },
});

export const monitorStopped = defineEvent({
  name: "monitor.stopped",
  description:
    "The watch ended early without a verdict of its own: the deployment ended or a newer switch superseded it.",
  route: "monitor → audit",
  data: () =>
    z.strictObject({
      color: colorSchema,
      reason: z.enum(["superseded", "deployment_ended", "switched_away"]),
      checks: z.int().min(0),
    }),
  example: { color: "green", reason: "deployment_ended", checks: 4 },
});

const sloCheck = {
  slo: text(128),
  query: text(2048).optional(),
  color: colorSchema,
  /** How many checks of this SLO ran so far in the window. */
  checks: z.int().min(0),
};

export const sloWarning = defineEvent({
  name: "slo.warning",
  description: "An SLO whose `on_breach` is `warn` is over its threshold; nothing is rolled back.",
  route: "monitor → audit",
  data: () => z.strictObject({ ...sloCheck, value: z.number(), threshold: z.number() }),
  example: {
    slo: "p95-latency",
    color: "green",
    checks: 6,
    value: 6.2,
    threshold: 5,
  },
});

export const sloBreached = defineEvent({
  name: "slo.breached",
  description:
    "An SLO whose `on_breach` is `rollback` reached its failure limit: the coordinator switches traffic back.",
  route: "monitor → coordinator, audit",
  data: () =>
    z.strictObject({
      ...sloCheck,
      value: z.number(),
      threshold: z.number(),
      breaches: z.int().min(1),
      limit: z.int().min(1),
      action: z.enum(["rollback"]),
      /** nginx source: the requests the breach was judged on, real ones and probes apart. */
      evidence: evidenceSchema.optional(),
    }),
  example: {
    slo: "error-ratio",
    query:
      'sum(rate(http_requests_total{instance="10.0.0.11:8000",status=~"5.."}[1m])) / sum(rate(http_requests_total{instance="10.0.0.11:8000"}[1m]))',
    color: "green",
    checks: 3,
    value: 0.48,
    threshold: 0.05,
    breaches: 1,
    limit: 1,
    action: "rollback",
  },
});

export const sloInconclusive = defineEvent({
  name: "slo.inconclusive",
  description:
    "An SLO check gave no verdict: no answer from the source, no data, NaN or too little traffic. At the limit, `action` is what the definition asks for.",
  route: "monitor → coordinator, audit",
  data: () =>
    z.strictObject({
      ...sloCheck,
      reason: z.enum(["unreachable", "timeout", "no_data", "nan", "low_traffic", "error"]),
      detail: text(1024).optional(),
      count: z.int().min(1),
      limit: z.int().min(1),
      limitReached: z.boolean(),
      action: z.enum(["rollback", "warn"]).optional(),
    }),
  example: {
    slo: "error-ratio",
    color: "green",
    checks: 5,
    reason: "unreachable",
    detail: "connect ECONNREFUSED 127.0.0.1:9090",
    count: 2,
    limit: 3,
    limitReached: false,
  },
});
