// The whole stack for the full-flow suites: nats-server, nginx, the two sample-app nodes (blue
// v1.0 serving, green idle), the definition applied with the CLI, the switcher, a node agent
// per colour, the monitor and the coordinator, all real processes from temp config files.
// The demo's stack (scripts/demo/stack.ts) is the one implementation; this adds what the
// suites look at: what nginx serves, the stream of one deployment, the lock, a request loop,
// changing the definition, and crashing and restarting the coordinator.

import { readFileSync, writeFileSync } from "node:fs";
import { type BgEvent, Buckets } from "@bluegreen/contracts";
import { type Lease, leaseSchema } from "@bluegreen/coordinator";
import {
  type AgentProcess,
  bluegreen,
  type CliResult,
  EventLog,
  eventsByDeployment,
  type NatsCluster,
  respawnAgent,
  settledAnswer,
  startTraffic,
  type TrafficLoop,
} from "@bluegreen/testkit";
import type { JetStreamClient } from "nats";
import { parseDocument } from "yaml";
import { setFaults } from "../../scripts/demo/apps.ts";
import { type DemoStack, startDemoStack } from "../../scripts/demo/stack.ts";
import { startedForSuite } from "../suite.ts";

export { setFaults };

export interface E2eStack {
  readonly base: DemoStack;
  readonly service: string;
  readonly nginxUrl: string;
  /** Requests through nginx all along (the monitor judges real traffic). */
  readonly traffic: TrafficLoop;
  /** Every event of the service seen live since the stack started (core subscription). */
  readonly log: EventLog;
  /** The coordinator now running (a new process after each restart). */
  coordinator(): AgentProcess;
  /** What nginx serves on a new connection, once ten answers in a row agree (≤ 3 s). */
  served(): Promise<{ color: string | undefined; version: string | undefined; status: number }>;
  /** Every event of a deployment in the stream, in order. */
  events(deploymentId: string): Promise<BgEvent[]>;
  /** The service lock as stored (undefined when never taken). */
  lock(): Promise<Lease | undefined>;
  /** Re-applies the definition after changing its YAML document. */
  applyDefinition(change: (doc: ReturnType<typeof parseDocument>) => void): Promise<void>;
  /** SIGKILL the coordinator (a crash). */
  killCoordinator(): Promise<void>;
  /** Start it again from the same config file. */
  restartCoordinator(): Promise<void>;
  /** `bluegreen <args> --server <every NATS URL>`, as CI runs it. */
  cli(args: readonly string[], timeoutMs?: number): Promise<CliResult>;
  stop(): Promise<void>;
}

export interface E2eStackOptions {
  /** The definition's watch window (default 4s). */
  window?: string;
  /** Run on this cluster (started and stopped by the caller), with R<size> stream and buckets. */
  natsCluster?: NatsCluster;
  /** Run the agents and the CLI from this single executable (tests/release), not the sources. */
  executable?: string;
  /** Watch with the nginx source (nginx → the switcher's request-log reader → the monitor). */
  nginxSource?: boolean;
  /** Pause between requests of the traffic loop (default 40 ms). */
  trafficPauseMs?: number;
  /** Sample-app nodes per colour, each with its own node agent (default 1). */
  nodesPerColor?: number;
}

/** The service lock as stored (undefined when never taken or released by delete). */
export async function readLock(js: JetStreamClient, service: string): Promise<Lease | undefined> {
  const kv = await js.views.kv(Buckets.locks);
  const entry = await kv.get(service);
  if (entry === null || entry.operation !== "PUT") return undefined;
  return leaseSchema.parse(JSON.parse(new TextDecoder().decode(entry.value)));
}

/**
 * Starts the stack before the suite's tests (within `startTimeoutMs`) and stops it after them;
 * `use` receives it once started.
 */
export function e2eStackForSuite(
  opts: E2eStackOptions,
  use: (stack: E2eStack) => void,
  startTimeoutMs = 120_000,
): void {
  startedForSuite(
    () => startE2eStack(opts),
    use,
    (stack) => stack.stop(),
    startTimeoutMs,
  );
}

export async function startE2eStack(opts: E2eStackOptions = {}): Promise<E2eStack> {
  const base = await startDemoStack({
    window: opts.window ?? "4s",
    ...(opts.nginxSource === true ? { nginxSource: true } : {}),
    ...(opts.nodesPerColor === undefined ? {} : { nodesPerColor: opts.nodesPerColor }),
    ...(opts.natsCluster === undefined ? {} : { natsCluster: opts.natsCluster }),
    ...(opts.executable === undefined ? {} : { executable: opts.executable }),
  });
  const exe = { executable: opts.executable };
  const natsServers = base.natsUrls.join(",");
  const nginxUrl = `http://127.0.0.1:${base.nginx.port}`;
  const traffic = startTraffic({
    url: `${nginxUrl}/api/v1/memory`,
    pauseMs: opts.trafficPauseMs ?? 40,
    maxDurationMs: 600_000,
  });
  const log = new EventLog(base.nc, `bluegreen.${base.service}.>`);
  const original = base.agents.find((a) => a.name.startsWith("coordinator"));
  if (original === undefined) throw new Error("the stack has no coordinator");
  let coordinator: AgentProcess = original;
  const respawned: AgentProcess[] = [];
  const originalDefinition = readFileSync(base.definitionPath, "utf8");

  return {
    base,
    service: base.service,
    nginxUrl,
    traffic,
    log,
    coordinator: () => coordinator,
    served: () => settledAnswer(`${nginxUrl}/health`),
    events: async (deploymentId) =>
      (await eventsByDeployment(base.js, base.service, { expiresMs: 1_000 })).get(deploymentId) ??
      [],
    lock: () => readLock(base.js, base.service),
    applyDefinition: async (change) => {
      const doc = parseDocument(originalDefinition);
      change(doc);
      writeFileSync(base.definitionPath, doc.toString({ lineWidth: 0 }));
      const applied = await bluegreen(natsServers, ["apply", "-f", base.definitionPath], exe);
      if (applied.code !== 0) throw new Error(`apply exited ${applied.code}: ${applied.stderr}`);
    },
    killCoordinator: () => coordinator.kill(),
    restartCoordinator: async () => {
      coordinator = await respawnAgent(
        "coordinator",
        coordinator,
        exe.executable === undefined ? {} : { executable: exe.executable },
      );
      respawned.push(coordinator);
    },
    cli: (args, timeoutMs) =>
      bluegreen(natsServers, args, timeoutMs === undefined ? exe : { ...exe, timeoutMs }),
    stop: async () => {
      log.stop();
      await traffic.stop();
      for (const agent of respawned) await agent.stop().catch(() => undefined);
      await base.stop();
    },
  };
}
