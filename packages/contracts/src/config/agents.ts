import { z } from "zod";
import { durationSchema } from "../duration.ts";
import { MAX_CHECKPOINT_EVENTS } from "../events/audit.ts";
import { agentIdSchema, colorSchema, serviceNameSchema } from "../names.ts";
import { argvSchema } from "./service.ts";

/** A path on the agent's own host (a secret, a certificate, a directory). */
const hostPath = z.string().optional();

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
    pass_file: hostPath,
    token: z.string().optional(),
    token_file: hostPath,
    /** nkey seed file (SU...). */
    nkey_seed_file: hostPath,
    /** A .creds file (JWT + nkey seed). */
    creds_file: hostPath,
    tls: z
      .strictObject({
        ca_file: hostPath,
        cert_file: hostPath,
        key_file: hostPath,
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
  /**
   * nginx's per-request log lines for the monitor's nginx source: one reader per service,
   * aggregating into 100 ms windows published on `bgstats.<service>` (core NATS, not audited).
   */
  request_logs: z
    .array(
      z.strictObject({
        service: serviceNameSchema,
        /** `udp://127.0.0.1:5140` (nginx `access_log syslog:server=…`) or an absolute file path. */
        listen: z
          .string()
          .regex(
            /^(udp:\/\/(127\.0\.0\.1|\[::1\]|localhost):\d+|\/.+)$/,
            "expected udp://127.0.0.1:<port> or an absolute file path",
          ),
      }),
    )
    .default([]),
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
  state_dir: hostPath,
  ssh: z
    .strictObject({
      user: z.string().optional(),
      key_file: hostPath,
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
  /**
   * Signed audit checkpoints over the stream (docs/audit.md). Without this block, the
   * coordinator signs nothing (and says so when it starts).
   */
  audit: z
    .strictObject({
      /** The ed25519 private key (PEM, `bluegreen audit keygen`); only the coordinator may read it. */
      signing_key_file: z.string().min(1),
      /** A checkpoint once this many events are not covered yet (at most 2000). */
      checkpoint_every: z.int().min(1).max(MAX_CHECKPOINT_EVENTS).default(1000),
      /** A checkpoint at least this often while events came in since the last one. */
      checkpoint_interval: durationSchema.prefault("1m"),
    })
    .optional(),
});
export type CoordinatorConfig = z.output<typeof coordinatorConfigSchema>;

/** A secret: read from a file or an environment variable, never written in the config. */
const secretRef = {
  /** A file holding the value (trailing newline trimmed). */
  file: z.string().min(1).optional(),
  /** The name of an environment variable holding the value. */
  env: z.string().min(1).optional(),
};
const secretSchema = z
  .strictObject(secretRef)
  .refine((s) => (s.file === undefined) !== (s.env === undefined), {
    message: "give file or env (exactly one)",
  })
  .meta({ oneOf: [{ required: ["file"] }, { required: ["env"] }] });

const sinkCommon = {
  /** The sink's name, used by routes and as the first token of its delivery keys. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
  /** At most this many sends per second to this sink (a burst is spread out). */
  rate_per_second: z.number().positive().max(10_000).default(10),
  /** Sends in flight at once to this sink. */
  concurrency: z.int().min(1).max(64).default(4),
  /** One send's deadline. */
  timeout: durationSchema.prefault("10s"),
};

/** Where the HTTP sinks post: a URL in the config, or (when it holds a token) a secret. */
const urlFields = {
  url: z.url().optional(),
  url_secret: secretSchema.optional(),
};
const oneUrl = [
  (s: { url?: string | undefined; url_secret?: unknown }) =>
    (s.url === undefined) !== (s.url_secret === undefined),
  { message: "give url or url_secret (exactly one)" },
] as const;

export const webhookSinkSchema = z
  .strictObject({
    type: z.literal("webhook"),
    ...sinkCommon,
    ...urlFields,
    /** The HMAC-SHA256 key of the `X-Bluegreen-Signature` header. */
    signing_secret: secretSchema.optional(),
    /** Extra headers; a value comes from the config only when it is no secret. */
    headers: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
          value: z.string().optional(),
          ...secretRef,
        }),
      )
      .default([]),
  })
  .refine(...oneUrl);

export const slackSinkSchema = z
  .strictObject({
    type: z.literal("slack"),
    ...sinkCommon,
    ...urlFields,
    /** Overrides the message text; `${service}`, `${version}`, `${outcome}`… (docs/notifier.md). */
    template: z.string().min(1).max(4000).optional(),
  })
  .refine(...oneUrl);

export const emailSinkSchema = z.strictObject({
  type: z.literal("email"),
  ...sinkCommon,
  smtp: z.strictObject({
    host: z.string().min(1),
    port: z.int().min(1).max(65535).default(587),
    /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    /** Refuse to send without TLS (STARTTLS required). */
    require_tls: z.boolean().default(false),
    /** A CA bundle to trust (a private CA). */
    ca_file: hostPath,
    user: z.string().optional(),
    password: secretSchema.optional(),
  }),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
  /** Overrides the subject line; the same placeholders as the Slack template. */
  subject: z.string().min(1).max(500).optional(),
});

export const sinkConfigSchema = z.discriminatedUnion("type", [
  webhookSinkSchema,
  slackSinkSchema,
  emailSinkSchema,
]);
export type SinkConfig = z.output<typeof sinkConfigSchema>;

export const notifierConfigSchema = z.strictObject({
  role: z.literal("notifier"),
  ...commonAgent,
  sinks: z.array(sinkConfigSchema).min(1),
  routes: z
    .array(
      z.strictObject({
        /** Service globs (`emily`, `api-*`, `*`). */
        services: z.array(z.string().min(1).max(63)).min(1).default(["*"]),
        /** Event names or globs (`deploy.rolled_back`, `deploy.*`, `agent.stale`). */
        events: z.array(z.string().min(1).max(64)).min(1),
        /** Names of sinks above. */
        sinks: z.array(z.string().min(1)).min(1),
      }),
    )
    .min(1),
  /** The dashboard's base URL: messages link to `<url>/deployments/<service>/<id>`. */
  dashboard_url: z.url().optional(),
  delivery: z
    .strictObject({
      /** Sends of one delivery before it is given up. */
      max_tries: z.int().min(1).max(100).default(12),
      /** A delivery older than this is given up. */
      max_age: durationSchema.prefault("1h"),
      /** First retry delay; doubles per try (with jitter) up to `backoff_max`. */
      backoff: durationSchema.prefault("1s"),
      backoff_max: durationSchema.prefault("5m"),
    })
    .prefault({}),
  /** Publishing `agent.stale` for agents whose heartbeats stopped. */
  stale: z
    .strictObject({
      /** A heartbeat older than this is stale (the agent did not say it stopped). */
      after: durationSchema.prefault("30s"),
      check_interval: durationSchema.prefault("5s"),
    })
    .prefault({}),
});
export type NotifierConfig = z.output<typeof notifierConfigSchema>;

export const agentConfigSchema = z.discriminatedUnion("role", [
  switcherConfigSchema,
  nodeAgentConfigSchema,
  monitorConfigSchema,
  coordinatorConfigSchema,
  notifierConfigSchema,
]);
export type AgentConfig = z.output<typeof agentConfigSchema>;
