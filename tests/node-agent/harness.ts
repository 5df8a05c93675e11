// What the node agent's suites share: a NATS server with the stream and buckets, the audit
// stream read back as events, the agent as a real child process (its bin), and helpers that
// publish what the coordinator would.

import {
  type AnyBgEvent,
  type BgEvent,
  Buckets,
  createEvent,
  type EventDataInput,
  type EventName,
} from "@bluegreen/contracts";
import { putDefinition, readHeartbeats } from "@bluegreen/runtime";
import {
  agentConfig,
  connectClient,
  makeTempDir,
  type NatsServer,
  publishEvent,
  type AgentProcess as StartedAgent,
  startAgent as startAgentBin,
  startNats,
  streamEvents,
  type TempDir,
  type TestClient,
  timeline,
  waitFor,
} from "@bluegreen/testkit";
import { afterAll, beforeAll } from "vitest";

export interface Bus extends TestClient {
  readonly server: NatsServer;
  stop(): Promise<void>;
}

/** A nats-server of the suite's own, with the stream and the buckets. */
export async function startBus(): Promise<Bus> {
  const server = await startNats({ jetstream: true });
  const client = await connectClient(server.url, { role: "coordinator", maxAgeMs: 3_600_000 });
  return {
    ...client,
    server,
    stop: async () => {
      await client.close();
      await server.stop();
    },
  };
}

/**
 * The suite's own bus and temp dir (`name`): started before its tests, stopped and removed
 * after them. Call it before the suite's own hooks: its afterAll then runs after theirs (after
 * hooks run in reverse order), so agents stop while the bus is still up.
 */
export function busAndDir(name: string): { readonly bus: Bus; readonly dir: TempDir } {
  const rig = {} as { bus: Bus; dir: TempDir };
  beforeAll(async () => {
    [rig.bus, rig.dir] = await Promise.all([startBus(), makeTempDir(name)]);
  });
  afterAll(async () => {
    await rig.bus?.stop();
    await rig.dir?.remove();
  });
  return rig;
}

export async function eventsOf(bus: Bus, deploymentId: string): Promise<AnyBgEvent[]> {
  return (await streamEvents(bus.jsm)).filter((e) => e.deploymentid === deploymentId);
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

/** The timeline of a deploy of the example definition (examples/local) that passes. */
export const EXAMPLE_PASSED = [
  "deploy.started",
  "progress 1:started",
  "progress 1:succeeded",
  "progress 2:started",
  "progress 2:succeeded",
  "progress 3:started",
  "progress 3:succeeded",
  "deploy.ready",
  "smoke.passed",
];

export function finalEvent<T extends string>(events: readonly AnyBgEvent[], type: T) {
  const found = events.find((e) => e.type === `bluegreen.${type}`);
  if (found === undefined) throw new Error(`no ${type} among: ${timeline(events).join(", ")}`);
  return found as Extract<AnyBgEvent, { type: `bluegreen.${T}` }>;
}

export async function applyDefinition(bus: Bus, yaml: string): Promise<void> {
  await putDefinition(bus.kv.services, yaml);
}

/** Publishes an event as the coordinator would (its id as the stream's message id). */
async function publishAsCoordinator<N extends EventName>(
  bus: Bus,
  name: N,
  opts: { service: string; deploymentId: string; data: EventDataInput<N> },
): Promise<BgEvent<N>> {
  const event = createEvent(name, { ...opts, source: "bluegreen/coordinator/test" });
  await publishEvent(bus.js, event as BgEvent);
  return event;
}

/** Publishes what the coordinator publishes; returns the event. */
export function publishStarted(
  bus: Bus,
  opts: { service: string; deploymentId: string; data: EventDataInput<"deploy.started"> },
): Promise<BgEvent<"deploy.started">> {
  return publishAsCoordinator(bus, "deploy.started", opts);
}

/** Publishes a deploy.started of `version` to one green node on 127.0.0.1:`port`, blue active. */
export function publishGreenStarted(
  bus: Bus,
  opts: { service: string; deploymentId: string; version: string; port: number },
  extra: { previousVersion?: string } = {},
): Promise<BgEvent<"deploy.started">> {
  const { version, port, ...ids } = opts;
  const nodes = [{ host: "127.0.0.1", port }];
  return publishStarted(bus, {
    ...ids,
    data: { version, color: "green", nodes, activeColor: "blue", ...extra },
  });
}

export async function publishAborted(
  bus: Bus,
  opts: { service: string; deploymentId: string; by: string },
): Promise<void> {
  await publishAsCoordinator(bus, "deploy.aborted", {
    service: opts.service,
    deploymentId: opts.deploymentId,
    data: { by: opts.by, phase: "deploying", trafficMovedBack: false },
  });
}

export interface AgentProcess extends StartedAgent {
  readonly httpUrl: string;
  readonly agentId: string;
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
  const agent = await startAgentBin(
    "nodeAgent",
    agentId,
    dir.path,
    agentConfig("node-agent", agentId, bus.server.url, {
      heartbeat_interval: "500ms",
      serves: config.serves,
      ...(config.ssh === undefined ? {} : { ssh: config.ssh }),
    }),
  );
  return { ...agent, httpUrl: agent.url, agentId };
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
