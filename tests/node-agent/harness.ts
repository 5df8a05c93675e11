// What the node agent's suites share: a NATS server with the stream and buckets, the audit
// stream read back as events, the agent as a real child process (its bin), and helpers that
// publish what the coordinator would.

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type AnyBgEvent,
  type BgEvent,
  Buckets,
  createEvent,
  type EventDataInput,
  encodeEvent,
  eventSubject,
  parseEvent,
  STREAM_NAME,
} from "@bluegreen/contracts";
import {
  type BucketHandles,
  ensureBuckets,
  ensureStream,
  putDefinition,
  readHeartbeats,
} from "@bluegreen/runtime";
import {
  type ManagedProcess,
  type NatsServer,
  spawnProcess,
  startNats,
  type TempDir,
  waitFor,
} from "@bluegreen/testkit";
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from "nats";

export const AGENT_BIN = fileURLToPath(
  new URL("../../packages/node-agent/bin/bluegreen-node-agent.js", import.meta.url),
);
export const SAMPLE_CTL = fileURLToPath(
  new URL("../../examples/sample-app/bin/sample-app-ctl.js", import.meta.url),
);

export interface Bus {
  readonly server: NatsServer;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly kv: BucketHandles;
  stop(): Promise<void>;
}

export async function startBus(): Promise<Bus> {
  const server = await startNats({ jetstream: true });
  const nc = await connect({ servers: [server.url] });
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, { maxAgeMs: 3_600_000, replicas: 1 });
  const js = nc.jetstream();
  const kv = await ensureBuckets(js, { replicas: 1 });
  return {
    server,
    nc,
    js,
    jsm,
    kv,
    stop: async () => {
      await nc.close();
      await server.stop();
    },
  };
}

/** Every event in the audit stream, in stream order. */
export async function streamEvents(bus: Bus): Promise<AnyBgEvent[]> {
  const info = await bus.jsm.streams.info(STREAM_NAME);
  const out: AnyBgEvent[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    try {
      const msg = await bus.jsm.streams.getMessage(STREAM_NAME, { seq });
      const parsed = parseEvent(msg.data);
      if (parsed.ok) out.push(parsed.event as AnyBgEvent);
    } catch {
      // a deleted message
    }
  }
  return out;
}

export async function eventsOf(bus: Bus, deploymentId: string): Promise<AnyBgEvent[]> {
  return (await streamEvents(bus)).filter((e) => e.deploymentid === deploymentId);
}

/** `deploy.progress` as `1:started`, `1:succeeded`, …; other events by their short name. */
export function timeline(events: readonly AnyBgEvent[]): string[] {
  return events.map((e) =>
    e.type === "bluegreen.deploy.progress"
      ? `progress ${e.data.step}:${e.data.status}`
      : e.type.replace(/^bluegreen\./, ""),
  );
}

const FINAL = new Set([
  "bluegreen.deploy.failed",
  "bluegreen.smoke.passed",
  "bluegreen.smoke.failed",
]);

/** Waits until the deployment has a final event from the node agent; returns all its events. */
export async function waitForOutcome(
  bus: Bus,
  deploymentId: string,
  timeoutMs = 30_000,
): Promise<AnyBgEvent[]> {
  return waitFor(
    async () => {
      const events = await eventsOf(bus, deploymentId);
      return events.some((e) => FINAL.has(e.type)) ? events : undefined;
    },
    { what: `a final event for ${deploymentId}`, timeoutMs, intervalMs: 100 },
  );
}

export function finalEvent<T extends string>(events: readonly AnyBgEvent[], type: T) {
  const found = events.find((e) => e.type === `bluegreen.${type}`);
  if (found === undefined) throw new Error(`no ${type} among: ${timeline(events).join(", ")}`);
  return found as Extract<AnyBgEvent, { type: `bluegreen.${T}` }>;
}

export async function applyDefinition(bus: Bus, yaml: string): Promise<void> {
  await putDefinition(bus.kv.services, yaml);
}

/** Publishes what the coordinator publishes; returns the event. */
export async function publishStarted(
  bus: Bus,
  opts: { service: string; deploymentId: string; data: EventDataInput<"deploy.started"> },
): Promise<BgEvent<"deploy.started">> {
  const event = createEvent("deploy.started", {
    service: opts.service,
    source: "bluegreen/coordinator/test",
    deploymentId: opts.deploymentId,
    data: opts.data,
  });
  await bus.js.publish(
    eventSubject(opts.service, "deploy.started"),
    encodeEvent(event as BgEvent),
    {
      msgID: event.id,
    },
  );
  return event;
}

export async function publishAborted(
  bus: Bus,
  opts: { service: string; deploymentId: string; by: string },
): Promise<void> {
  const event = createEvent("deploy.aborted", {
    service: opts.service,
    source: "bluegreen/coordinator/test",
    deploymentId: opts.deploymentId,
    data: { by: opts.by, phase: "deploying", trafficMovedBack: false },
  });
  await bus.js.publish(
    eventSubject(opts.service, "deploy.aborted"),
    encodeEvent(event as BgEvent),
    {
      msgID: event.id,
    },
  );
}

export interface AgentProcess {
  readonly process: ManagedProcess;
  readonly httpUrl: string;
  readonly agentId: string;
  stop(): Promise<void>;
}

let agentCount = 0;

/** Writes the agent's config and starts `bluegreen-node-agent --config` as a child process. */
export async function startAgent(
  bus: Bus,
  dir: TempDir,
  config: { serves: unknown[]; ssh?: unknown; agentId?: string },
): Promise<AgentProcess> {
  agentCount++;
  const agentId = config.agentId ?? `node-agent-test-${process.pid}-${agentCount}`;
  const configPath = dir.file(`${agentId}.yaml`);
  writeFileSync(
    configPath,
    JSON.stringify({
      role: "node-agent",
      agent_id: agentId,
      nats: { servers: [bus.server.url] },
      http: { host: "127.0.0.1", port: 0 },
      heartbeat_interval: "500ms",
      serves: config.serves,
      ...(config.ssh === undefined ? {} : { ssh: config.ssh }),
    }),
  );
  const proc = await spawnProcess({
    name: `node-agent ${agentId}`,
    command: process.execPath,
    args: [AGENT_BIN, "--config", configPath],
  });
  try {
    // Both waits start now: the two lines may arrive in one chunk.
    const [httpLine] = await Promise.all([
      proc.waitForLine((l) => l.includes('"http listening"'), {
        what: "the agent's http listening line",
        timeoutMs: 20_000,
      }),
      proc.waitForLine((l) => l.includes('"to":"running"'), {
        what: "the agent to be running",
        timeoutMs: 20_000,
      }),
    ]);
    const httpUrl = (JSON.parse(httpLine) as { url: string }).url;
    return {
      process: proc,
      httpUrl,
      agentId,
      stop: async () => {
        await proc.stop({ timeoutMs: 10_000 });
      },
    };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

/** The agent's last heartbeat in KV. */
export async function heartbeatOf(bus: Bus, agentId: string) {
  return (await readHeartbeats(bus.kv.agents)).find((hb) => hb.data.agentId === agentId);
}

export { Buckets };

/** A minimal definition (JSON is YAML) for suites that need their own steps and checks. */
export function definitionYaml(opts: {
  service: string;
  greenPort: number;
  workdir: string;
  steps: string[][];
  stepTimeout?: string;
  timeout?: string;
  readiness?: Record<string, unknown>;
  smoke?: unknown[];
  executor?: "agent" | "ssh";
  sshPort?: number;
}): string {
  const ssh = opts.sshPort === undefined ? {} : { ssh: { port: opts.sshPort } };
  return JSON.stringify({
    service: opts.service,
    nodes: {
      blue: { host: "127.0.0.1", port: 1, ...ssh },
      green: { host: "127.0.0.1", port: opts.greenPort, ...ssh },
    },
    deploy: {
      executor: opts.executor ?? "agent",
      workdir: opts.workdir,
      steps: opts.steps,
      timeout: opts.timeout ?? "1m",
      ...(opts.stepTimeout === undefined ? {} : { step_timeout: opts.stepTimeout }),
    },
    readiness: opts.readiness ?? { path: "/health", interval: "100ms", timeout: "10s" },
    smoke: opts.smoke ?? [],
    traffic: {
      upstream: "test_active",
      file: `${opts.workdir}/active.conf`,
      verify: { url: "http://127.0.0.1:1/health" },
    },
    monitor: {
      source: { scrape: true },
      slos: [{ name: "error-ratio", scrape: { errorRatio: {} }, max: 0.05 }],
    },
  });
}
