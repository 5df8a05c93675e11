import { z } from "zod";
import { durationSchema } from "../duration.ts";
import { serviceNameSchema } from "../names.ts";

/**
 * The service definition: defined once in YAML, applied to KV, read by every agent.
 * Durations are written as `"10m"`, `"1s"` and compiled to milliseconds.
 */

const PLACEHOLDER = /\$\{([^}]*)\}/g;
/** `${host}` and `${port}` are the node being deployed (a colour may have several). */
export const STEP_PLACEHOLDERS = ["version", "service", "color", "host", "port"] as const;

/** The placeholder rule below as one pattern, so the exported JSON Schema carries it too. */
const PLACEHOLDERS_PATTERN = `^(?:[^$]|\\$(?!\\{[^}]*\\})|\\$\\{(?:${STEP_PLACEHOLDERS.join("|")})\\})*$`;

const argvElement = z
  .string()
  .min(1, "an argv element cannot be empty")
  .max(4096)
  .meta({ pattern: PLACEHOLDERS_PATTERN })
  .superRefine((value, ctx) => {
    for (const match of value.matchAll(PLACEHOLDER)) {
      const name = match[1] ?? "";
      if (!(STEP_PLACEHOLDERS as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: "custom",
          message: `unknown placeholder \${${name}}: use ${STEP_PLACEHOLDERS.map((p) => `\${${p}}`).join(", ")}`,
        });
      }
    }
  });

/** A command: an argv array, never a shell string. */
export const argvSchema = z
  .array(argvElement, { message: "expected an argv array such as [git, fetch, origin]" })
  .min(1, "a command needs at least the program name")
  .max(256);

export const nodeSchema = z.strictObject({
  host: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9.:_-]+$/, "expected a host name or IP address"),
  port: z.int().min(1).max(65535),
  /** SSH settings for `executor: ssh` (defaults: port 22, the agent's user). */
  ssh: z
    .strictObject({
      port: z.int().min(1).max(65535).default(22),
      user: z.string().min(1).max(64).optional(),
    })
    .optional(),
});
export type ServiceNode = z.infer<typeof nodeSchema>;

/** One node (short form) or a list of nodes, always compiled to a list. */
const colorNodes = z
  .union([nodeSchema, z.array(nodeSchema).min(1, "a colour needs at least one node").max(64)])
  .transform((v) => (Array.isArray(v) ? v : [v]));

const httpMethod = z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const urlPath = z.string().regex(/^\/[^\s]*$/, "expected a path starting with '/'");

const jsonValue: z.ZodType<unknown> = z.json();

export const httpCheckSchema = z.strictObject({
  name: z.string().min(1).max(128),
  request: z.strictObject({
    method: httpMethod.default("GET"),
    path: urlPath,
    headers: z.record(z.string(), z.string()).optional(),
    json: jsonValue.optional(),
    body: z.string().max(65536).optional(),
  }),
  expect: z
    .strictObject({
      status: z.int().min(100).max(599).default(200),
      /** Every key given must be present with this value (a JSON subset). */
      json: z.record(z.string(), jsonValue).optional(),
      bodyContains: z.string().optional(),
      maxLatency: durationSchema.optional(),
    })
    .prefault({}),
  timeout: durationSchema.prefault("10s"),
});

export const commandCheckSchema = z.strictObject({
  name: z.string().min(1).max(128),
  command: argvSchema,
  timeout: durationSchema.prefault("60s"),
});

export const smokeCheckSchema = z.union([httpCheckSchema, commandCheckSchema]);
export type HttpCheck = z.infer<typeof httpCheckSchema>;
export type CommandCheck = z.infer<typeof commandCheckSchema>;
export type SmokeCheck = z.infer<typeof smokeCheckSchema>;

export const sloSchema = z
  .strictObject({
    name: z.string().min(1).max(128),
    /** PromQL for the Prometheus source; `${service}`, `${color}`, `${instance}` are substituted. */
    query: z.string().min(1).max(2048).optional(),
    /** What the direct-scrape source computes for this SLO. */
    scrape: z
      .union([
        z.strictObject({
          errorRatio: z.strictObject({
            counter: z.string().default("http_requests_total"),
            statusLabel: z.string().default("status"),
            errorStatus: z.string().default("5.."),
          }),
        }),
        z.strictObject({
          quantile: z.strictObject({
            histogram: z.string().default("http_request_duration_seconds"),
            q: z.number().gt(0).lt(1),
          }),
        }),
      ])
      .optional(),
    /** What the nginx source computes for this SLO from nginx's per-request windows. */
    nginx: z
      .union([
        z.strictObject({
          errorRatio: z.strictObject({
            /** Statuses counted as errors, matched in full (like PromQL `=~`). */
            errorStatus: z.string().default("5.."),
          }),
        }),
        z.strictObject({ quantile: z.strictObject({ q: z.number().gt(0).lt(1) }) }),
      ])
      .optional(),
    max: z.number(),
    on_breach: z.enum(["rollback", "warn"]).default("rollback"),
    /** Breaches needed before acting (Argo's failureLimit). */
    failure_limit: z.int().min(1).default(1),
    /** What a window with no traffic means: pass, or count as inconclusive. */
    no_traffic: z.enum(["pass", "inconclusive"]).default("inconclusive"),
    /** Below this many requests in the interval a ratio is not judged (treated as no traffic). */
    min_requests: z.int().min(0).default(1),
  })
  .refine((s) => s.query !== undefined || s.scrape !== undefined || s.nginx !== undefined, {
    message:
      "an SLO needs a query (Prometheus), a scrape spec (direct scrape) or an nginx spec (nginx source)",
  })
  .meta({ anyOf: [{ required: ["query"] }, { required: ["scrape"] }, { required: ["nginx"] }] });
export type Slo = z.infer<typeof sloSchema>;

/** The nginx source's settings, alone (`source: { nginx: … }`) or beside Prometheus or scrape. */
const nginxSourceSchema = z.strictObject({
  /** No window from the reader for this long: the source is down (inconclusive). */
  stale_after: durationSchema.prefault("1s"),
  /** Probe requests through nginx while real traffic is below `min_requests`. */
  probe: z
    .strictObject({
      request: z.strictObject({ method: httpMethod.default("GET"), path: urlPath }),
      /** Probe requests per second. */
      rate: z.number().gt(0).max(200),
      /** Where nginx listens (scheme://host:port); default: the origin of `traffic.verify.url`. */
      url: z.url().optional(),
    })
    .optional(),
});

export const monitorSchema = z.strictObject({
  window: durationSchema.prefault("30m"),
  interval: durationSchema.prefault("60s"),
  source: z.union([
    z.strictObject({
      prometheus: z.url(),
      /** Name of an environment variable on the monitor host holding an Authorization header value. */
      auth_header_env: z.string().optional(),
      timeout: durationSchema.prefault("5s"),
      /** The nginx source beside it: SLOs with an `nginx` spec are judged from nginx's windows. */
      nginx: nginxSourceSchema.optional(),
    }),
    z.strictObject({
      scrape: z.literal(true),
      path: urlPath.default("/metrics"),
      timeout: durationSchema.prefault("5s"),
      nginx: nginxSourceSchema.optional(),
    }),
    z.strictObject({
      /** nginx's own per-request windows, published by the switcher's reader on `bgstats.<service>`. */
      nginx: nginxSourceSchema,
    }),
  ]),
  slos: z.array(sloSchema).min(1).max(32),
  inconclusive: z
    .strictObject({
      limit: z.int().min(1).default(3),
      consecutive: z.boolean().default(false),
      on_limit: z.enum(["rollback", "warn"]).default("rollback"),
    })
    .prefault({}),
});

/** The SLO field each source reads. */
const SLO_FIELD = { prometheus: "query", scrape: "scrape", nginx: "nginx" } as const;
const SOURCE_NEEDS = {
  prometheus:
    "the Prometheus source needs a query for every SLO (or, with nginx beside it, an nginx spec)",
  scrape:
    "the direct-scrape source needs a scrape spec for every SLO (or, with nginx beside it, an nginx spec)",
  nginx: "the nginx source needs an nginx spec for every SLO",
} as const;

/** JSON Schema: with this source alone, every SLO has its field. */
function sourceNeeds(kind: keyof typeof SLO_FIELD) {
  const alone =
    kind === "nginx" ? { required: [kind] } : { required: [kind], not: { required: ["nginx"] } };
  return {
    if: { properties: { monitor: { properties: { source: alone } } } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, never awaited
    then: {
      properties: { monitor: { properties: { slos: { items: { required: [SLO_FIELD[kind]] } } } } },
    },
  };
}

export type ServiceDefinition = z.output<typeof serviceDefinitionSchema>;
export type ServiceDefinitionInput = z.input<typeof serviceDefinitionSchema>;

export const serviceDefinitionSchema = z
  .strictObject({
    service: serviceNameSchema,
    nodes: z.strictObject({ blue: colorNodes, green: colorNodes }),
    deploy: z.strictObject({
      executor: z.enum(["agent", "ssh"]).default("agent"),
      workdir: z.string().regex(/^\//, "expected an absolute path"),
      steps: z.array(argvSchema).min(1).max(64),
      env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).optional(),
      timeout: durationSchema.prefault("10m"),
      step_timeout: durationSchema.optional(),
    }),
    readiness: z
      .strictObject({
        path: urlPath.default("/health"),
        interval: durationSchema.prefault("1s"),
        timeout: durationSchema.prefault("2m"),
        expect_status: z.int().min(100).max(599).default(200),
      })
      .prefault({}),
    smoke: z.array(smokeCheckSchema).max(100).default([]),
    promotion: z
      .strictObject({ manual: z.boolean().default(false), timeout: durationSchema.prefault("24h") })
      .prefault({}),
    traffic: z.strictObject({
      upstream: z.string().regex(/^[A-Za-z0-9_]+$/, "expected an nginx upstream name"),
      file: z.string().regex(/^\/.*\.conf$/, "expected an absolute path ending in .conf"),
      verify: z.strictObject({
        url: z.url(),
        timeout: durationSchema.prefault("5s"),
      }),
      switch_timeout: durationSchema.prefault("30s"),
      /** Keep-alive connections from nginx to the upstream (0 = off). */
      keepalive: z.int().min(0).max(1024).default(0),
    }),
    monitor: monitorSchema,
  })
  // The source/SLO rule below, for the exported JSON Schema (duplicates are runtime-only).
  .meta({ allOf: (["prometheus", "scrape", "nginx"] as const).map(sourceNeeds) })
  .superRefine((def, ctx) => {
    const seen = new Map<string, string>();
    for (const color of ["blue", "green"] as const) {
      def.nodes[color].forEach((node, i) => {
        const key = `${node.host}:${node.port}`;
        const other = seen.get(key);
        if (other !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["nodes", color, i],
            message: `node ${key} is already used by ${other}; blue and green need distinct nodes`,
          });
        }
        seen.set(key, `${color}[${i}]`);
      });
    }
    const names = new Set<string>();
    def.smoke.forEach((check, i) => {
      if (names.has(check.name))
        ctx.addIssue({
          code: "custom",
          path: ["smoke", i, "name"],
          message: `duplicate check name '${check.name}'`,
        });
      names.add(check.name);
    });
    const source = def.monitor.source;
    const kind = "scrape" in source ? "scrape" : "prometheus" in source ? "prometheus" : "nginx";
    const field = SLO_FIELD[kind];
    // With nginx beside Prometheus or scrape, an SLO with an nginx spec is judged by nginx.
    const beside = kind !== "nginx" && source.nginx !== undefined;
    def.monitor.slos.forEach((slo, i) => {
      if (slo[field] === undefined && !(beside && slo.nginx !== undefined))
        ctx.addIssue({
          code: "custom",
          path: ["monitor", "slos", i, field],
          message: SOURCE_NEEDS[kind],
        });
    });
  });
