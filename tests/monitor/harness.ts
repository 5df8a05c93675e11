// What the monitor suites share: a NATS client side (stream, buckets, a bus to publish as the
// switcher would, a log of every event on bluegreen.>), the monitor as a real child process,
// service definitions, and steady traffic to the sample apps.

import { fileURLToPath } from "node:url";
import { type AnyBgEvent, type BgEvent, type EventName, parseEvent } from "@bluegreen/contracts";
import {
  type BucketHandles,
  Bus,
  createLogger,
  ensureBuckets,
  ensureStream,
  putDefinition,
} from "@bluegreen/runtime";
import { connect, type NatsConnection } from "nats";
import { stringify } from "yaml";
import {
  type ManagedProcess,
  makeTempDir,
  type NatsServer,
  REPO_ROOT,
  spawnProcess,
  type TempDir,
  waitFor,
} from "../support/index.ts";

/** Deployment ids unique to this run, so a reused NATS (BLUEGREEN_TEST_NATS_URL) holds no stale ones. */
const RUN = Date.now().toString(36);
export function dep(name: string): string {
  return `d-${RUN}-${name}`;
}

export const MONITOR_BIN = fileURLToPath(
  new URL("../../packages/monitor/bin/bluegreen-monitor.js", import.meta.url),
);

/** Every event seen on `bluegreen.>` since the log was opened, in arrival order. */
export class EventLog {
  readonly events: AnyBgEvent[] = [];
  /** Payloads that did not parse (the malformed messages the tests publish). */
  readonly unparsed: string[] = [];

  constructor(nc: NatsConnection) {
    const sub = nc.subscribe("bluegreen.>");
    (async () => {
      for await (const msg of sub) {
        const parsed = parseEvent(msg.data);
        if (parsed.ok) this.events.push(parsed.event as AnyBgEvent);
        else this.unparsed.push(new TextDecoder().decode(msg.data));
      }
    })().catch(() => undefined);
  }

  of<N extends EventName>(name: N, deploymentId?: string): BgEvent<N>[] {
    return this.events.filter(
      (e) =>
        e.type === `bluegreen.${name}` &&
        (deploymentId === undefined || e.deploymentid === deploymentId),
    ) as unknown as BgEvent<N>[];
  }

  /** The first event of that type (and deployment) matching `where`, polled until `timeoutMs`. */
  wait<N extends EventName>(
    name: N,
    opts: { deploymentId?: string; where?: (e: BgEvent<N>) => boolean; timeoutMs?: number },
  ): Promise<BgEvent<N>> {
    return waitFor(() => this.of(name, opts.deploymentId).find((e) => opts.where?.(e) ?? true), {
      what: `${name}${opts.deploymentId === undefined ? "" : ` of ${opts.deploymentId}`}`,
      timeoutMs: opts.timeoutMs ?? 15_000,
      intervalMs: 20,
    });
  }
}

export interface Stack {
  readonly nc: NatsConnection;
  readonly kv: BucketHandles;
  /** Publishes as a test switcher/coordinator would. */
  readonly bus: Bus;
  readonly log: EventLog;
  close(): Promise<void>;
}

export async function connectStack(nats: NatsServer): Promise<Stack> {
  const nc = await connect({ servers: nats.url });
  const logger = createLogger({ level: "silent" });
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, { maxAgeMs: 90 * 24 * 3_600_000, replicas: 1 });
  const kv = await ensureBuckets(nc.jetstream(), { replicas: 1 });
  const bus = new Bus({ nc, role: "switcher", agentId: "test-switcher", logger });
  const log = new EventLog(nc);
  return {
    nc,
    kv,
    bus,
    log,
    close: async () => {
      await bus.stop();
      await nc.drain();
    },
  };
}

export interface DefinitionOptions {
  readonly service: string;
  /** `host:port` of the blue and green nodes. */
  readonly blue: string;
  readonly green: string;
  readonly monitor: Record<string, unknown>;
}

function node(instance: string): { host: string; port: number } {
  const [host, port] = instance.split(":");
  return { host: host ?? "", port: Number(port) };
}

/** A service definition as YAML, with everything but the nodes and the monitor section dummy. */
export function definitionYaml(o: DefinitionOptions): string {
  return stringify({
    service: o.service,
    nodes: { blue: node(o.blue), green: node(o.green) },
    deploy: { workdir: "/opt/app", steps: [["true"]] },
    traffic: {
      upstream: `${o.service.replace(/-/g, "_")}_active`,
      file: `/tmp/${o.service}-active.conf`,
      verify: { url: "http://127.0.0.1/health" },
    },
    monitor: o.monitor,
  });
}

export async function applyDefinition(stack: Stack, o: DefinitionOptions): Promise<void> {
  await putDefinition(stack.kv.services, definitionYaml(o), { source: `${o.service}.yaml` });
}

/** Publishes the `switch.done` of a promotion to `to`, as the switcher does. */
export async function promote(
  stack: Stack,
  service: string,
  deploymentId: string,
  to: "blue" | "green" = "green",
): Promise<BgEvent<"switch.done">> {
  const { event } = await stack.bus.emit("switch.done", {
    service,
    deploymentId,
    data: {
      from: to === "green" ? "blue" : "green",
      to,
      changed: true,
      reason: "promote",
      revision: 1,
      version: "v1.1",
      timings: { totalMs: 10 },
    },
  });
  return event;
}

export interface MonitorProcess {
  readonly process: ManagedProcess;
  /** The agent's HTTP endpoint (`/metrics`, `/healthz`). */
  readonly url: string;
  readonly agentId: string;
  stop(): Promise<void>;
  /** SIGKILL: a crash, no clean shutdown. */
  kill(): Promise<void>;
}

export interface StartMonitorOptions {
  readonly nats: NatsServer;
  readonly agentId?: string;
  readonly prometheusUrl?: string;
  /** Reused across restarts so the durable consumers are the same. */
  readonly dir?: TempDir;
}

/** Starts `bluegreen-monitor --config …` and waits for its "monitor ready" line. */
export async function startMonitorProcess(opts: StartMonitorOptions): Promise<MonitorProcess> {
  const dir = opts.dir ?? (await makeTempDir("monitor"));
  const agentId = opts.agentId ?? "monitor-test";
  const configPath = dir.file("monitor.yaml");
  const { writeFile } = await import("node:fs/promises");
  await writeFile(
    configPath,
    stringify({
      role: "monitor",
      agent_id: agentId,
      nats: { servers: [opts.nats.url] },
      http: { host: "127.0.0.1", port: 0 },
      heartbeat_interval: "1s",
      log: { level: "debug" },
      services: ["*"],
      ...(opts.prometheusUrl === undefined ? {} : { prometheus_url: opts.prometheusUrl }),
    }),
  );
  const proc = await spawnProcess({
    name: `monitor ${agentId}`,
    command: process.execPath,
    args: [MONITOR_BIN, "--config", configPath],
    cwd: REPO_ROOT,
  });
  let url = "";
  const off = proc.onLine((line) => {
    if (line.includes('"msg":"http listening"')) url = (JSON.parse(line) as { url: string }).url;
  });
  try {
    await proc.waitForLine((l) => l.includes('"msg":"monitor ready"'), {
      what: "the monitor's ready line",
      timeoutMs: 20_000,
    });
  } catch (err) {
    await proc.stop();
    throw err;
  } finally {
    off();
  }
  const cleanup = async () => {
    if (opts.dir === undefined) await dir.remove();
  };
  return {
    process: proc,
    url,
    agentId,
    stop: async () => {
      await proc.stop({ timeoutMs: 10_000 });
      await cleanup();
    },
    kill: async () => {
      await proc.stop({ signal: "SIGKILL" });
      await cleanup();
    },
  };
}

/** Steady traffic to the apps' API, a few requests in flight per app, until stop(). */
export function startTraffic(
  baseUrls: readonly string[],
  opts: { perApp?: number; pauseMs?: number } = {},
) {
  let stopped = false;
  let sent = 0;
  const worker = async (base: string) => {
    while (!stopped) {
      try {
        const res = await fetch(`${base}/api/v1/inference`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"prompt":"test"}',
          signal: AbortSignal.timeout(5_000),
        });
        await res.arrayBuffer();
        sent++;
      } catch {
        // An app that is stopping or slow: keep going.
      }
      await new Promise((resolve) => setTimeout(resolve, opts.pauseMs ?? 25));
    }
  };
  const workers = baseUrls.flatMap((base) =>
    Array.from({ length: opts.perApp ?? 1 }, () => worker(base)),
  );
  return {
    get sent() {
      return sent;
    },
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

/** Polls the stored watch until it has run `n` checks; returns the count seen. */
export function waitForChecks(stack: Stack, service: string, n: number): Promise<number> {
  return waitFor(
    async () => {
      const entry = await stack.kv.watches.get(service);
      if (entry === null) return undefined;
      const checks = (entry.json() as { checks: number }).checks;
      return checks >= n ? checks : undefined;
    },
    { what: `${n} checks of ${service} in KV`, timeoutMs: 10_000 },
  );
}
