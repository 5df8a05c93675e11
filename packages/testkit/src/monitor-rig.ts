// The monitor's world for its suites and the detection bench: a service definition whose
// monitor section is the test's (everything else dummy), the `switch.done` a switcher would
// publish, the monitor as a real child process (its bin), and steady traffic to the apps' API.

import type { BgEvent } from "@bluegreen/contracts";
import { putDefinition } from "@bluegreen/runtime";
import { stringify } from "yaml";
import { type AgentProcess, agentConfig, startAgent } from "./agents.ts";
import type { TestClient } from "./client.ts";
import { promotedData } from "./events.ts";
import type { NatsServer } from "./nats.ts";
import { makeTempDir, type TempDir } from "./tmp.ts";

export interface WatchDefinitionOptions {
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
export function watchDefinitionYaml(o: WatchDefinitionOptions): string {
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

export async function applyWatchDefinition(
  client: TestClient,
  o: WatchDefinitionOptions,
): Promise<void> {
  await putDefinition(client.kv.services, watchDefinitionYaml(o), { source: `${o.service}.yaml` });
}

/** Publishes the `switch.done` of a promotion to `to`, as the switcher does. */
export async function promote(
  client: TestClient,
  service: string,
  deploymentId: string,
  to: "blue" | "green" = "green",
): Promise<BgEvent<"switch.done">> {
  const { event } = await client.bus.emit("switch.done", {
    service,
    deploymentId,
    data: { ...promotedData({ to, version: "v1.1" }), timings: { totalMs: 10 } },
  });
  return event;
}

export interface MonitorProcess extends AgentProcess {
  readonly agentId: string;
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
  const agent = await startAgent(
    "monitor",
    "monitor",
    dir.path,
    agentConfig("monitor", agentId, opts.nats.url, {
      log: { level: "debug" },
      services: ["*"],
      ...(opts.prometheusUrl === undefined ? {} : { prometheus_url: opts.prometheusUrl }),
    }),
    { readyLine: /"msg":"monitor ready"/ },
  );
  const cleanup = async () => {
    if (opts.dir === undefined) await dir.remove();
  };
  return {
    ...agent,
    url: agent.url,
    agentId,
    stop: async () => {
      await agent.stop();
      await cleanup();
    },
    kill: async () => {
      await agent.kill();
      await cleanup();
    },
  };
}

/** Steady traffic to the apps' API, a few requests in flight per app, until stop(). */
export function startApiTraffic(
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
