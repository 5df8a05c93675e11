import { readFile } from "node:fs/promises";
import {
  type AgentConfig,
  type AgentRole,
  BgError,
  compileAgentConfig,
  type EventDataInput,
} from "@bluegreen/contracts";
import type { JetStreamClient, JetStreamManager, NatsConnection } from "nats";
import type { Registry } from "prom-client";
import { Bus } from "./bus.ts";
import { connectNats } from "./connection.ts";
import { ServiceDefinitions } from "./definitions.ts";
import { type Heartbeat, startHeartbeat } from "./heartbeat.ts";
import { type AgentHttp, createMetricsRegistry, natsHealth, startAgentHttp } from "./http.ts";
import { Lifecycle } from "./lifecycle.ts";
import { type CreateLoggerOptions, childLogger, createLogger, type Logger } from "./logger.ts";
import { DEFAULT_SIGNALS, installShutdown, type ShutdownHandle } from "./shutdown.ts";
import { type BucketHandles, ensureBuckets, ensureStream } from "./streams.ts";
import { retryTransient } from "./transient.ts";

/** How long start-up waits for the stream and the buckets to answer (transient errors only). */
const START_RETRY_MS = 30_000;

export type RoleConfig<R extends AgentRole> = Readonly<Extract<AgentConfig, { role: R }>>;

export interface AgentContext<R extends AgentRole> {
  config: RoleConfig<R>;
  logger: Logger;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  bus: Bus;
  kv: BucketHandles;
  definitions: ServiceDefinitions;
  metrics: Registry;
  lifecycle: Lifecycle;
}

export interface StartedAgent {
  /** Stops the agent's own work (consumers it started are stopped by the runtime too). */
  stop(): Promise<void>;
  /** What the agent adds to its heartbeat (services, colour, node health, leader…). */
  heartbeat?: () => Partial<EventDataInput<"agent.heartbeat">>;
}

export interface RunAgentOptions<R extends AgentRole> {
  role: R;
  /** The agent's YAML config file … */
  configPath?: string;
  /** … or the config itself (YAML text or an object). */
  config?: string | object;
  start: (ctx: AgentContext<R>) => Promise<StartedAgent>;
  /** The agent's software version, for heartbeats. */
  version?: string;
  /** Where log lines go (tests); stdout otherwise. */
  logDestination?: CreateLoggerOptions["destination"];
  /** False in tests: shutdown runs but the process does not exit. Default true. */
  exitOnShutdown?: boolean;
  shutdownTimeoutMs?: number;
}

export interface RunningAgent<R extends AgentRole> {
  ctx: AgentContext<R>;
  http: AgentHttp;
  /** Runs the shutdown (as SIGTERM would); resolves with the exit code. */
  shutdown(reason?: string): Promise<number>;
}

interface Resources {
  nc: NatsConnection;
  bus: Bus;
  definitions: ServiceDefinitions;
  http: AgentHttp;
  agent: StartedAgent;
  heartbeat: Heartbeat;
}

/**
 * Stops whatever was started, in the order that loses nothing: the agent's own work, then the
 * consumers (running handlers finish), then the heartbeat (its last word is "stopped"), the
 * definitions watch and HTTP, and last NATS (drained, so pending publishes go out).
 */
async function closeAll(open: Partial<Resources>, logger: Logger): Promise<void> {
  const { agent, bus, heartbeat, definitions, http, nc } = open;
  const steps: [string, (() => Promise<unknown>) | undefined][] = [
    ["agent", agent && (() => agent.stop())],
    ["consumers", bus && (() => bus.stop())],
    ["heartbeat", heartbeat && (() => heartbeat.stop())],
    ["definitions", definitions && (() => definitions.stop())],
    ["http", http && (() => http.close())],
    ["nats", nc && (() => nc.drain())],
  ];
  let failed: unknown;
  for (const [name, step] of steps) {
    if (step === undefined) continue;
    try {
      await step();
    } catch (err) {
      logger.error({ err, step: name }, "shutdown step failed");
      failed ??= err;
    }
  }
  if (failed !== undefined) throw failed;
}

async function loadConfig<R extends AgentRole>(opts: RunAgentOptions<R>): Promise<RoleConfig<R>> {
  let input: string | object;
  let source = "(config)";
  if (opts.config !== undefined) input = opts.config;
  else if (opts.configPath !== undefined) {
    source = opts.configPath;
    try {
      input = await readFile(opts.configPath, "utf8");
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new BgError(
        "BG_ERR_CONFIG_INVALID",
        { problems: `${opts.configPath}: cannot read the file (${reason})` },
        { cause: err },
      );
    }
  } else throw new BgError("BG_ERR_CONFIG_INVALID", { problems: "no config file given" });
  const config = compileAgentConfig(input, { source });
  if (config.role !== opts.role) {
    throw new BgError("BG_ERR_CONFIG_INVALID", {
      problems: `${source}: role: expected '${opts.role}', got '${config.role}'`,
    });
  }
  return config as RoleConfig<R>;
}

/**
 * The bootstrap every agent's main.ts calls: config → logger → NATS → stream and buckets →
 * service definitions → HTTP → the agent's own start → heartbeat → signal handling.
 * A failure while starting closes what was started and throws the (coded) error.
 */
export async function runAgent<R extends AgentRole>(
  opts: RunAgentOptions<R>,
): Promise<RunningAgent<R>> {
  const config = await loadConfig(opts);
  const root = createLogger({
    level: config.log.level,
    base: { role: opts.role, agentId: config.agent_id },
    ...(opts.logDestination === undefined ? {} : { destination: opts.logDestination }),
  });
  const lifecycle = new Lifecycle(`${opts.role}/${config.agent_id}`, root);
  const open: Partial<Resources> = {};
  lifecycle.set("starting");
  try {
    const nc = await connectNats(config.nats, {
      name: `bluegreen-${opts.role}-${config.agent_id}`,
      logger: childLogger(root, { component: "nats" }),
    });
    open.nc = nc;
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    const stream = { maxAgeMs: config.nats.stream.max_age, replicas: config.nats.stream.replicas };
    // A cluster electing a leader, or busy scaling the stream up for another agent starting at
    // the same time, answers late or not at all for a few seconds: wait that out.
    const settle = {
      forMs: START_RETRY_MS,
      onRetry: (err: unknown, attempt: number, delayMs: number) =>
        root.warn({ err, attempt, retryInMs: delayMs }, "stream or buckets not ready; retrying"),
    };
    await retryTransient(() => ensureStream(jsm, { ...stream, logger: root }), settle);
    const kv = await retryTransient(
      () => ensureBuckets(js, { replicas: config.nats.kv_replicas, logger: root }),
      settle,
    );
    const bus = new Bus({ nc, role: opts.role, agentId: config.agent_id, logger: root, stream });
    open.bus = bus;
    const definitions = await ServiceDefinitions.open(kv.services, {
      nc,
      logger: childLogger(root, { component: "definitions" }),
    });
    open.definitions = definitions;
    const metrics = createMetricsRegistry(`bluegreen_${opts.role.replace(/-/g, "_")}_`);
    const connected = natsHealth(nc);
    const http = await startAgentHttp({
      host: config.http.host,
      port: config.http.port,
      registry: metrics,
      logger: root,
      health: () => {
        const nats = connected();
        const ok = nats.ok && lifecycle.is("starting", "running");
        return { ok, details: { state: lifecycle.state, ...nats.details } };
      },
    });
    open.http = http;
    const ctx: AgentContext<R> = {
      config,
      logger: root,
      nc,
      js,
      jsm,
      bus,
      kv,
      definitions,
      metrics,
      lifecycle,
    };
    const agent = await opts.start(ctx);
    open.agent = agent;
    lifecycle.set("running");
    open.heartbeat = startHeartbeat({
      kv: kv.agents,
      role: opts.role,
      agentId: config.agent_id,
      intervalMs: config.heartbeat_interval,
      source: bus.source,
      ...(opts.version === undefined ? {} : { version: opts.version }),
      build: () => ({ ...agent.heartbeat?.(), state: lifecycle.state }),
      logger: root,
    });

    const shutdown: ShutdownHandle = installShutdown(
      DEFAULT_SIGNALS,
      async () => {
        if (!lifecycle.is("failed")) lifecycle.set("stopping");
        await closeAll(open, root);
        lifecycle.set("stopped");
      },
      {
        logger: root,
        ...(opts.shutdownTimeoutMs === undefined ? {} : { timeoutMs: opts.shutdownTimeoutMs }),
        ...(opts.exitOnShutdown === false ? { exit: () => undefined } : {}),
      },
    );
    return {
      ctx,
      http,
      shutdown: async (reason = "requested") => {
        const code = await shutdown.trigger(reason);
        shutdown.dispose();
        return code;
      },
    };
  } catch (err) {
    root.fatal({ err }, "agent failed to start");
    lifecycle.set("failed");
    await closeAll(open, root).catch(() => undefined);
    throw err;
  }
}
