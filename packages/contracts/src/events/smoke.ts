import { z } from "zod";
import { colorSchema } from "../names.ts";
import { versionSchema } from "../version.ts";
import { durationMsSchema, errorInfoSchema, nodeIdSchema, text } from "./common.ts";
import { defineEvent } from "./define.ts";

export const smokeCheckResultSchema = z.strictObject({
  name: text(128),
  ok: z.boolean(),
  durationMs: durationMsSchema,
  status: z.int().optional(),
  message: text(1024).optional(),
});
export type SmokeCheckResult = z.infer<typeof smokeCheckResultSchema>;

const smokeReport = z.strictObject({
  node: nodeIdSchema,
  color: colorSchema,
  version: versionSchema,
  durationMs: durationMsSchema,
  checks: z.array(smokeCheckResultSchema).max(100),
});

export const smokePassed = defineEvent({
  name: "smoke.passed",
  description: "Every smoke check passed on one node of the idle colour.",
  route: "node-agent → coordinator, audit",
  data: () => smokeReport,
  example: {
    node: "10.0.0.11:8000",
    color: "green",
    version: "v1.1",
    durationMs: 61,
    checks: [
      { name: "health", ok: true, durationMs: 12, status: 200 },
      { name: "inference", ok: true, durationMs: 38, status: 200 },
      { name: "memory", ok: true, durationMs: 11, status: 200 },
    ],
  },
});

export const smokeFailed = defineEvent({
  name: "smoke.failed",
  description:
    "At least one smoke check failed on a node of the idle colour; every check is listed with its result. Traffic stays where it is.",
  route: "node-agent → coordinator, audit",
  data: () => smokeReport.extend({ error: errorInfoSchema }),
  example: {
    node: "10.0.0.11:8000",
    color: "green",
    version: "v1.1",
    durationMs: 44,
    checks: [
      { name: "health", ok: true, durationMs: 12, status: 200 },
      {
        name: "inference",
        ok: false,
        durationMs: 21,
        status: 500,
        message: "expected status 200, got 500",
      },
      { name: "memory", ok: true, durationMs: 11, status: 200 },
    ],
    error: {
      code: "BG_ERR_SMOKE_FAILED",
      message: "smoke checks failed on 10.0.0.11:8000: inference",
      retryable: false,
    },
  },
});
