import { z } from "zod";
import { colorSchema } from "../names.ts";
import { versionSchema } from "../version.ts";
import {
  byWhomSchema,
  durationMsSchema,
  errorInfoSchema,
  nodeIdSchema,
  nodeRefSchema,
  optionalColorSchema,
  text,
} from "./common.ts";
import { type DeploymentIdRule, defineEvent } from "./define.ts";

const ex = {
  service: "emily",
  deploymentId: "d-20261126-1a2b3c",
  node: "10.0.0.11:8000",
};

export const deployRequested = defineEvent({
  name: "deploy.requested",
  description:
    "CI or an operator asks for a version of a service to be deployed. The `deploymentid` extension is optional: without it the event id becomes the deployment id.",
  route: "CI, `bluegreen deploy`, `bluegreen rollback --to`, `bluegreen retry` → coordinator",
  deploymentId: "optional",
  data: () =>
    z.strictObject({
      version: versionSchema,
      requestedBy: byWhomSchema.optional(),
      reason: text(512).optional(),
      /** Wait for a running deployment to end instead of being rejected. */
      queue: z.boolean().optional(),
      /** Stop after smoke checks and wait for `deploy.promote_requested`. */
      manualPromotion: z.boolean().optional(),
      /**
       * What kind of deploy: `rollback` (`bluegreen rollback --to`: allowed while the service is
       * frozen) or `retry` (`bluegreen retry`); absent for a plain deploy.
       */
      kind: z.enum(["rollback", "retry"]).optional(),
      /** With `kind: retry`: the deployment this one repeats. */
      retryOf: text(64).optional(),
    }),
  example: { version: "v1.1", requestedBy: "ci:github/emily#412" },
});

export const deployRejected = defineEvent({
  name: "deploy.rejected",
  description:
    "The coordinator refused a deploy request before touching anything (busy, unknown service, unsafe or already-active version, missing agent).",
  route: "coordinator → CLI, audit",
  data: () =>
    z.strictObject({
      version: text(200),
      error: errorInfoSchema,
      runningDeploymentId: text(64).optional(),
    }),
  example: {
    version: "v1.2",
    error: {
      code: "BG_ERR_DEPLOY_BUSY",
      message: "service 'emily' is busy with deployment d-20261126-1a2b3c (monitoring)",
      retryable: true,
    },
    runningDeploymentId: ex.deploymentId,
  },
});

export const deployStarted = defineEvent({
  name: "deploy.started",
  description:
    "The coordinator took the service lock and asks the node agents of the idle colour to deploy the version to every node of that colour.",
  route: "coordinator → node-agent",
  data: () =>
    z.strictObject({
      version: versionSchema,
      color: colorSchema,
      nodes: z.array(nodeRefSchema).min(1).max(64),
      activeColor: optionalColorSchema,
      previousVersion: text(200).nullable().optional(),
      /**
       * When the coordinator gives up on this step (its `deploying` deadline): a node agent
       * that receives the event later does not run it. Absent in events from before it was
       * carried; the agent then derives it from the event's time and the definition.
       */
      deadline: z.iso.datetime({ offset: true }).optional(),
    }),
  example: {
    version: "v1.1",
    color: "green",
    nodes: [{ host: "10.0.0.11", port: 8000 }],
    activeColor: "blue",
    previousVersion: "v1.0",
    deadline: "2026-03-01T12:00:45.000Z",
  },
});

export const deployProgress = defineEvent({
  name: "deploy.progress",
  description:
    "One deploy step on one node started or finished (exit code, duration, output tail).",
  route: "node-agent → CLI, audit",
  data: () =>
    z.strictObject({
      node: nodeIdSchema,
      color: colorSchema,
      version: versionSchema,
      step: z.int().min(1),
      steps: z.int().min(1),
      command: z.array(text(1024)).max(256),
      /** `interrupted`: the agent died while the step ran; on restart it ended the step's group. */
      status: z.enum(["started", "succeeded", "failed", "timed_out", "aborted", "interrupted"]),
      durationMs: durationMsSchema.optional(),
      exitCode: z.int().nullable().optional(),
      outputTail: text(4096).optional(),
    }),
  example: {
    node: ex.node,
    color: "green",
    version: "v1.1",
    step: 2,
    steps: 4,
    command: ["git", "checkout", "v1.1"],
    status: "succeeded",
    durationMs: 412,
    exitCode: 0,
    outputTail: "HEAD is now at 3f2c1d0 release v1.1",
  },
});

export const deployReady = defineEvent({
  name: "deploy.ready",
  description: "A node of the idle colour answers its readiness path as expected.",
  route: "node-agent → coordinator, audit",
  data: () =>
    z.strictObject({
      node: nodeIdSchema,
      color: colorSchema,
      version: versionSchema,
      durationMs: durationMsSchema,
      attempts: z.int().min(1),
    }),
  example: { node: ex.node, color: "green", version: "v1.1", durationMs: 2140, attempts: 3 },
});

export const deployFailed = defineEvent({
  name: "deploy.failed",
  description:
    "A deployment ended in failure: a step, readiness, smoke, a switch, or a deadline. `trafficAtRisk` is true when traffic may be on a bad colour (a failed rollback): page someone.",
  route: "node-agent, coordinator → coordinator, CLI, audit",
  data: () =>
    z.strictObject({
      stage: z.enum(["preflight", "deploy", "readiness", "smoke", "switch", "monitor", "rollback"]),
      error: errorInfoSchema,
      node: nodeIdSchema.optional(),
      color: colorSchema.optional(),
      version: text(200).optional(),
      step: z.int().min(1).optional(),
      exitCode: z.int().nullable().optional(),
      outputTail: text(4096).optional(),
      lastAnswer: text(1024).optional(),
      activeColor: optionalColorSchema.optional(),
      trafficAtRisk: z.boolean().default(false),
    }),
  example: {
    stage: "deploy",
    error: {
      code: "BG_ERR_STEP_FAILED",
      message: "step 3 (docker compose build) exited with code 1",
      retryable: false,
    },
    node: ex.node,
    color: "green",
    version: "v1.1",
    step: 3,
    exitCode: 1,
    outputTail: "failed to solve: process did not complete successfully",
    activeColor: "blue",
    trafficAtRisk: false,
  },
});

export const deploySucceeded = defineEvent({
  name: "deploy.succeeded",
  description: "The new colour serves and passed its watch window; the lock is released.",
  route: "coordinator → CLI, audit",
  data: () =>
    z.strictObject({
      version: versionSchema,
      color: colorSchema,
      previousColor: optionalColorSchema,
      durationMs: durationMsSchema,
      phases: z.record(z.string(), durationMsSchema).optional(),
    }),
  example: {
    version: "v1.1",
    color: "green",
    previousColor: "blue",
    durationMs: 1_815_000,
    phases: { deploying: 12_000, switching: 40, monitoring: 1_800_000 },
  },
});

export const deployRolledBack = defineEvent({
  name: "deploy.rolled_back",
  description:
    "Traffic went back to the previous colour after a breach or a rollback request; the old colour still runs the previous version.",
  route: "coordinator → CLI, audit",
  data: () =>
    z.strictObject({
      version: versionSchema,
      from: colorSchema,
      to: colorSchema,
      restoredVersion: text(200).nullable().optional(),
      cause: z.enum(["slo_breach", "inconclusive_limit", "manual", "abort"]),
      breach: z
        .strictObject({
          slo: text(128),
          value: z.number().nullable(),
          threshold: z.number(),
          query: text(2048).optional(),
        })
        .optional(),
      timeToRollbackMs: durationMsSchema,
    }),
  example: {
    version: "v1.2",
    from: "green",
    to: "blue",
    restoredVersion: "v1.1",
    cause: "slo_breach",
    breach: { slo: "error-ratio", value: 0.5, threshold: 0.05 },
    timeToRollbackMs: 2_350,
  },
});

export const deployAborted = defineEvent({
  name: "deploy.aborted",
  description:
    "The deployment was aborted on request; before the switch traffic never moved, after it traffic was switched back.",
  route: "coordinator → node-agent, CLI, audit",
  data: () =>
    z.strictObject({
      by: byWhomSchema,
      reason: text(512).optional(),
      phase: text(32),
      trafficMovedBack: z.boolean(),
    }),
  example: { by: "alice", reason: "wrong tag", phase: "deploying", trafficMovedBack: false },
});

export const deployAwaitingPromotion = defineEvent({
  name: "deploy.awaiting_promotion",
  description:
    "Every node of the idle colour passed its smoke checks and the definition asks for manual promotion.",
  route: "coordinator → CLI, audit",
  data: () => z.strictObject({ version: versionSchema, color: colorSchema }),
  example: { version: "v1.1", color: "green" },
});

const operatorRequest = z.strictObject({
  by: byWhomSchema.optional(),
  reason: text(512).optional(),
});

/** An operator's request to the coordinator, sent by `bluegreen <command>`. */
function operatorRequestEvent<N extends string>(
  name: N,
  command: string,
  description: string,
  example: z.input<typeof operatorRequest>,
  deploymentId: DeploymentIdRule = "required",
) {
  const route = `\`bluegreen ${command}\` → coordinator`;
  return defineEvent({
    name,
    description,
    route,
    deploymentId,
    data: () => operatorRequest,
    example,
  });
}

export const deployPromoteRequested = operatorRequestEvent(
  "deploy.promote_requested",
  "promote",
  "An operator promotes a deployment waiting at its manual gate.",
  { by: "alice" },
);

export const deployAbortRequested = operatorRequestEvent(
  "deploy.abort_requested",
  "abort",
  "An operator aborts a deployment: before the switch traffic stays, after it traffic goes back.",
  { by: "alice", reason: "wrong tag" },
);

export const deployRollbackRequested = operatorRequestEvent(
  "deploy.rollback_requested",
  "rollback",
  "An operator asks for traffic back on the previous colour (during or after the watch window). Without a deployment id, the service's latest deployment is meant.",
  { by: "alice", reason: "customer reports" },
  "optional",
);
