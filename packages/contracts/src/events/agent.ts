import { z } from "zod";
import { colorSchema } from "../names.ts";
import { text } from "./common.ts";
import { defineEvent } from "./define.ts";

export const AgentRole = {
  coordinator: "coordinator",
  switcher: "switcher",
  nodeAgent: "node-agent",
  monitor: "monitor",
  notifier: "notifier",
} as const;
export type AgentRole = (typeof AgentRole)[keyof typeof AgentRole];
export const agentRoleSchema = z.enum([
  "coordinator",
  "switcher",
  "node-agent",
  "monitor",
  "notifier",
]);

export const agentHeartbeat = defineEvent({
  name: "agent.heartbeat",
  description:
    "An agent is alive: its role, services, colour and node health. Kept out of the audit stream (KV bucket `bluegreen_agents`, key `<role>.<agentId>`).",
  route: "every agent → coordinator, `bluegreen agents`",
  deploymentId: "none",
  audit: false,
  data: () =>
    z.strictObject({
      role: agentRoleSchema,
      agentId: text(128),
      host: text(253),
      pid: z.int(),
      version: text(64),
      state: text(32),
      startedAt: z.iso.datetime({ offset: true }),
      intervalMs: z.number().min(1),
      services: z.array(text(63)).max(1000),
      color: colorSchema.optional(),
      nodes: z
        .array(
          z.strictObject({
            node: text(300),
            healthy: z.boolean(),
            version: text(200).optional(),
          }),
        )
        .max(64)
        .optional(),
      leader: z.boolean().optional(),
    }),
  example: {
    role: "node-agent",
    agentId: "node-agent-emily-green",
    host: "emily-green",
    pid: 4121,
    version: "0.1.0",
    state: "running",
    startedAt: "2026-11-26T10:00:00.000Z",
    intervalMs: 5000,
    services: ["emily"],
    color: "green",
    nodes: [{ node: "10.0.0.11:8000", healthy: true, version: "v1.0" }],
  },
});

export const agentRejected = defineEvent({
  name: "agent.rejected",
  description:
    "An agent received something it could not accept (not JSON, not a CloudEvent, a schema violation, an unsafe version, an unknown service). The message is not retried. When the offending subject named no valid service, the service token is `_`.",
  route: "every agent → CLI, audit",
  deploymentId: "optional",
  data: () =>
    z.strictObject({
      code: text(64),
      message: text(2048),
      issues: z.array(z.strictObject({ path: text(256), message: text(512) })).max(20),
      rejectedBy: text(128),
      originalSubject: text(512),
      originalId: text(128).optional(),
      originalType: text(128).optional(),
      excerpt: text(512),
    }),
  example: {
    code: "BG_ERR_VERSION_UNSAFE",
    message: "event bluegreen.deploy.requested is invalid: data.version: unsafe version",
    issues: [{ path: "data.version", message: "unsafe version: it contains ';'" }],
    rejectedBy: "coordinator/coordinator-1",
    originalSubject: "bluegreen.emily.deploy.requested",
    originalId: "ci-412-1",
    originalType: "bluegreen.deploy.requested",
    excerpt: '{"specversion":"1.0","id":"ci-412-1",…',
  },
});

export const configApplied = defineEvent({
  name: "config.applied",
  description: "A service definition was validated and stored in KV by `bluegreen apply`.",
  route: "`bluegreen apply` → every agent, audit",
  deploymentId: "none",
  data: () =>
    z.strictObject({
      revision: z.int().min(1),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      by: text(128).optional(),
      file: text(1024).optional(),
    }),
  example: {
    revision: 3,
    sha256: "9b74c9897bac770ffc029102a200c5de3f1e4a5f2e1f8a8f1c3e6e0f1a2b3c4d",
    by: "alice",
    file: "examples/emily/service.yaml",
  },
});

export const agentStale = defineEvent({
  name: "agent.stale",
  description:
    "An agent's last heartbeat is older than the notifier's `stale.after`, and it did not say it stopped: it crashed, hangs, or lost NATS. Published once per silence (the id is the agent and its last heartbeat's time); the service token is `_`.",
  route: "notifier → notifier, audit",
  deploymentId: "none",
  data: () =>
    z.strictObject({
      role: agentRoleSchema,
      agentId: text(128),
      host: text(253),
      services: z.array(text(63)).max(1000),
      lastSeen: z.iso.datetime({ offset: true }),
      silentMs: z.number().min(0),
    }),
  example: {
    role: "switcher",
    agentId: "switcher-edge-1",
    host: "edge-1",
    services: ["emily"],
    lastSeen: "2026-11-26T10:00:00.000Z",
    silentMs: 31_000,
  },
});
