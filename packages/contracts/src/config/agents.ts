import { z } from "zod";
import { durationSchema } from "../duration.ts";
import { agentIdSchema, colorSchema, serviceNameSchema } from "../names.ts";
import { argvSchema } from "./service.ts";

/**
 * Each agent's own local config: NATS, identity, and host-local facts. Small on purpose;
 * everything about a service lives in its definition in KV.
 */

export const natsConfigSchema = z
  .strictObject({
    servers: z.array(z.string().min(1)).min(1).default(["nats://127.0.0.1:4222"]),
    user: z.string().optional(),
    /** Prefer pass_file or an environment variable; never logged. */
    pass: z.string().optional(),
    pass_file: z.string().optional(),
    token: z.string().optional(),
    token_file: z.string().optional(),
    /** nkey seed file (SU...). */
    nkey_seed_file: z.string().optional(),
    /** A .creds file (JWT + nkey seed). */
    creds_file: z.string().optional(),
    tls: z
      .strictObject({
        ca_file: z.string().optional(),
        cert_file: z.string().optional(),
        key_file: z.string().optional(),
        /** Name the server certificate must carry (defaults to the host of the URL). */
        server_name: z.string().optional(),
      })
      .optional(),
    name: z.string().optional(),
    /** Stream settings applied when this agent creates or updates the BLUEGREEN stream. */
    stream: z
      .strictObject({
        max_age: durationSchema.prefault("90d"),
        replicas: z.int().min(1).max(5).default(1),
      })
      .prefault({}),
    kv_replicas: z.int().min(1).max(5).default(1),
  })
  .refine((n) => !(n.pass !== undefined && n.pass_file !== undefined), {
    message: "give pass or pass_file, not both",
    path: ["pass_file"],
  })
  .refine((n) => !(n.token !== undefined && n.token_file !== undefined), {
    message: "give token or token_file, not both",
    path: ["token_file"],
  })
  // The two rules above, for the exported JSON Schema.
  .meta({
    allOf: [
      { not: { required: ["pass", "pass_file"] } },
      { not: { required: ["token", "token_file"] } },
    ],
  });
export type NatsConfig = z.output<typeof natsConfigSchema>;

const httpConfigSchema = z
  .strictObject({
    host: z.string().default("127.0.0.1"),
    /** 0 picks a free port (logged at start-up). */
    port: z.int().min(0).max(65535).default(0),
  })
  .prefault({});

const commonAgent = {
  agent_id: agentIdSchema,
  nats: natsConfigSchema.prefault({}),
  http: httpConfigSchema,
  log: z
    .strictObject({
      level: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
    })
    .prefault({}),
  heartbeat_interval: durationSchema.prefault("5s"),
};

/** `services: ["*"]` means every service defined in KV. */
const servicesList = z.array(z.union([serviceNameSchema, z.literal("*")])).min(1);

export const switcherConfigSchema = z.strictObject({
  role: z.literal("switcher"),
  ...commonAgent,
  services: servicesList,
  nginx: z
    .strictObject({
      test_command: argvSchema.default(["nginx", "-t"]),
      reload_command: argvSchema.default(["nginx", "-s", "reload"]),
      command_timeout: durationSchema.prefault("30s"),
    })
    .prefault({}),
  /**
   * When the upstream file (or what nginx serves) and the recorded colour disagree: at
   * start-up, and while running (the file is watched, and checked every `drift_interval`).
   */
  on_drift: z.enum(["reapply", "adopt", "report"]).default("reapply"),
  /** How often a running switcher checks each file and what nginx serves for drift. */
  drift_interval: durationSchema.prefault("5s"),
});
export type SwitcherConfig = z.output<typeof switcherConfigSchema>;

export const nodeAgentConfigSchema = z.strictObject({
  role: z.literal("node-agent"),
  ...commonAgent,
  /** What this agent deploys: a service, a colour, and (optionally) which nodes of it. */
  serves: z
    .array(
      z.strictObject({
        service: serviceNameSchema,
        color: colorSchema,
        /** `host:port` of the nodes this agent handles; all nodes of the colour when omitted. */
        nodes: z.array(z.string()).optional(),
        /** Overrides the definition's workdir on this host. */
        workdir: z.string().optional(),
      }),
    )
    .min(1),
  /**
   * A directory only this agent writes: it notes each step while it runs, so that after a
   * crash the restarted agent ends the step's process group before anything else runs.
   * Without it, a step left running by a crash is not found.
   */
  state_dir: z.string().optional(),
  ssh: z
    .strictObject({
      user: z.string().optional(),
      key_file: z.string().optional(),
      /** Name of an environment variable holding the key's passphrase; never logged. */
      passphrase_env: z.string().optional(),
      /** Use the running ssh-agent (SSH_AUTH_SOCK). */
      use_agent: z.boolean().default(false),
      known_hosts_file: z.string().default("~/.ssh/known_hosts"),
      connect_timeout: durationSchema.prefault("10s"),
    })
    .optional(),
});
export type NodeAgentConfig = z.output<typeof nodeAgentConfigSchema>;

export const monitorConfigSchema = z.strictObject({
  role: z.literal("monitor"),
  ...commonAgent,
  services: servicesList,
  /** Overrides the definition's Prometheus URL on this host. */
  prometheus_url: z.url().optional(),
});
export type MonitorConfig = z.output<typeof monitorConfigSchema>;

export const coordinatorConfigSchema = z.strictObject({
  role: z.literal("coordinator"),
  ...commonAgent,
  /** How long a leader lease or a service lock lives without renewal. */
  lease_ttl: durationSchema.prefault("15s"),
  /** A deploy is refused when a needed agent's last heartbeat is older than this. */
  heartbeat_max_age: durationSchema.prefault("30s"),
  /** Skip the heartbeat pre-flight (tests, or agents that do not heartbeat). */
  require_heartbeats: z.boolean().default(true),
});
export type CoordinatorConfig = z.output<typeof coordinatorConfigSchema>;

export const agentConfigSchema = z.discriminatedUnion("role", [
  switcherConfigSchema,
  nodeAgentConfigSchema,
  monitorConfigSchema,
  coordinatorConfigSchema,
]);
export type AgentConfig = z.output<typeof agentConfigSchema>;
