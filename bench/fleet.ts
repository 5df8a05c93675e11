// `npm run bench -- fleet [--services 1000] [--concurrent 200] [--cluster 3]`: one
// coordinator (a real process) on a real nats-server, 1 000 service definitions in KV, 200
// deployments requested at once, lightweight simulated agents (node agent, switcher, monitor)
// answering in-process. With `--cluster N`: on an N-node nats-server cluster on loopback,
// with the stream and the KV buckets replicated N times (`nats.stream.replicas` and
// `nats.kv_replicas` of the coordinator), as production runs.
// The coordinator is what is measured:
//   handle:  the coordinator's own time per event, from taking the message to acking it
//            (load, decide, store with CAS, publish, lock) — its /metrics histogram
//            `bluegreen_coordinator_event_handle_seconds`, p99 interpolated in the bucket;
//            this is `handle_p99_ms`;
//   answer:  from an input being stored in the stream (deploy.requested, the last
//            smoke.passed, monitor.passed) to the coordinator's answer arriving
//            (deploy.started, switch.requested, deploy.succeeded): handling plus the wait
//            behind the other deployments of the burst;
//   rss:     the coordinator process' peak resident memory (VmHWM).
// Ends with one JSON line: {"bench":"fleet","services":…,"concurrent":…,"completed":…,
// "handle_p99_ms":…,"coordinator_rss_mb":…,"nats_nodes":…}.

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import {
  type BgEvent,
  createEvent,
  encodeEvent,
  eventSubject,
  STREAM_NAME,
} from "@bluegreen/contracts";
import { ensureBuckets, ensureStream, putDefinition } from "@bluegreen/runtime";
import {
  coordinatorConfig,
  httpGet,
  makeTempDir,
  type NatsServer,
  SimAgents,
  startAgent,
  startNats,
  startNatsCluster,
  waitFor,
} from "@bluegreen/testkit";
import { connect, type KV } from "nats";

const MAX_SERVICES = 5_000;
const MAX_CONCURRENT = 1_000;
const DEADLINE_MS = 180_000;
const MAX_CLUSTER = 5;

/** The NATS the bench runs on: one server, or a cluster of `nodes` with R`nodes` storage. */
async function startEngine(
  nodes: number,
): Promise<{ urls: string[]; replicas: number; pids: number[] } & AsyncDisposable> {
  const pidsOf = (servers: readonly NatsServer[]) =>
    servers.flatMap((s) => (s.process === undefined ? [] : [s.process.pid]));
  if (nodes === 1) {
    const nats = await startNats({ jetstream: true });
    return {
      urls: [nats.url],
      replicas: 1,
      pids: pidsOf([nats]),
      [Symbol.asyncDispose]: () => nats.stop(),
    };
  }
  const cluster = await startNatsCluster({ size: nodes });
  return {
    urls: [...cluster.urls],
    replicas: nodes,
    pids: pidsOf(cluster.servers),
    [Symbol.asyncDispose]: () => cluster.stop(),
  };
}

function option(args: string[], name: string, fallback: number, max: number): number {
  const i = args.indexOf(`--${name}`);
  const raw = i >= 0 ? args[i + 1] : undefined;
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name}: 1..${max}`);
  return n;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ] as number;
}
export const round = (n: number) => Math.round(n * 10) / 10;

/** CPU time (user + system) a process used so far. */
function cpuTimeMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

export const serviceName = (i: number) => `svc-${String(i).padStart(4, "0")}`;
export const definition = (service: string, i: number) => `service: ${service}
nodes:
  blue:  { host: 127.0.0.1, port: ${20_000 + (i % 20_000)} }
  green: { host: 127.0.0.2, port: ${20_000 + (i % 20_000)} }
deploy: { workdir: /srv/${service}, steps: [[sample-app-ctl, set-version, "\${version}"]], timeout: 1m }
smoke: [{ name: health, request: { path: /health } }]
traffic: { upstream: u_${i}, file: /tmp/${service}.conf, verify: { url: "http://127.0.0.1:8080/health" } }
monitor:
  window: 30s
  interval: 1s
  source: { scrape: true }
  slos: [{ name: error-ratio, scrape: { errorRatio: {} }, max: 0.05 }]
`;

/** `services` definitions in KV, fifty at a time. */
export async function storeDefinitions(kv: KV, services: number): Promise<void> {
  for (let i = 0; i < services; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, services - i) }, (_, k) =>
        putDefinition(kv, definition(serviceName(i + k), i + k)),
      ),
    );
  }
}

/** Heartbeats of the simulated node agent, switcher and monitor every 2 s; returns the stop. */
export async function simHeartbeats(kv: KV): Promise<() => void> {
  const beat = async () => {
    for (const role of ["node-agent", "switcher", "monitor"] as const) {
      const hb = createEvent("agent.heartbeat", {
        service: "_",
        source: `bluegreen/${role}/sim`,
        data: {
          role,
          agentId: `${role}-sim`,
          host: "bench",
          pid: process.pid,
          version: "0.1.0",
          state: "running",
          startedAt: new Date().toISOString(),
          intervalMs: 2_000,
          services: ["*"],
        },
      });
      await kv.put(`${role}.${role}-sim`, encodeEvent(hb as BgEvent));
    }
  };
  await beat();
  const beating = setInterval(() => void beat().catch(() => undefined), 2_000);
  return () => clearInterval(beating);
}

/** p99 of a Prometheus histogram (linear inside the bucket, as histogram_quantile does). */
function histogramQuantile(text: string, metric: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const line of text.split("\n")) {
    const m = line.match(new RegExp(`^${metric}_bucket\\{.*le="([^"]+)".*\\} (\\d+)`));
    if (!m) continue;
    const le = m[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return Number.NaN;
}

export default async function fleet(args: string[]): Promise<void> {
  const services = option(args, "services", 1_000, MAX_SERVICES);
  const concurrent = Math.min(services, option(args, "concurrent", 200, MAX_CONCURRENT));
  const natsNodes = option(args, "cluster", 1, MAX_CLUSTER);
  await using nats = await startEngine(natsNodes);
  const { replicas } = nats;
  await using tmp = await makeTempDir("fleet");
  const nc = await connect({ servers: nats.urls });
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, { maxAgeMs: 86_400_000, replicas });
  const kv = await ensureBuckets(js, { replicas });
  // As the server reports them, not as asked.
  const streamReplicas = (await jsm.streams.info(STREAM_NAME)).config.num_replicas;
  const bucketReplicas = await Promise.all(
    Object.values(kv).map(async (bucket) => (await bucket.status()).streamInfo.config.num_replicas),
  );
  console.log(
    `fleet: on ${natsNodes === 1 ? "one nats-server" : `a ${natsNodes}-node nats-server cluster`}; stream R${streamReplicas}, KV buckets R${[...new Set(bucketReplicas)].join("/R")}`,
  );

  // 1 000 definitions, and blue serving v1.0 for the services that will deploy.
  let t = performance.now();
  await storeDefinitions(kv.services, services);
  const sim = await new SimAgents(nc, {
    onPublished: (event, at) => inputStored(event, at),
  }).start();
  for (let i = 0; i < concurrent; i++)
    await sim.seedActive(serviceName(i), {
      color: "blue",
      version: "v1.0",
      switchedAt: new Date().toISOString(),
      reason: "adopted",
    });
  // Heartbeats of the simulated agents, so pre-flight checks them as in production.
  const stopBeating = await simHeartbeats(kv.agents);
  console.log(`fleet: ${services} definitions stored in ${Math.round(performance.now() - t)} ms`);

  t = performance.now();
  const coordinator = await startAgent(
    "coordinator",
    "coordinator-fleet",
    tmp.path,
    coordinatorConfig(nats.urls[0] as string, "coordinator-fleet", {
      nats: { servers: nats.urls, stream: { replicas }, kv_replicas: replicas },
      lease_ttl: "15s",
      heartbeat_max_age: "30s",
    }),
    {
      startTimeoutMs: 60_000,
      // FLEET_PROFILE=<dir>: write a CPU profile of the coordinator there.
      ...(process.env.FLEET_PROFILE
        ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${process.env.FLEET_PROFILE}`] }
        : {}),
    },
  );
  const httpLine = coordinator.process.output
    .lastLines(400)
    .split("\n")
    .find((l) => l.includes('"http listening"'));
  const metricsUrl = `${JSON.parse(httpLine ?? "{}").url}/metrics`;
  console.log(
    `fleet: coordinator up (${services} definitions loaded) in ${Math.round(performance.now() - t)} ms`,
  );

  // Timing: an input stored → the coordinator's answer received.
  const storedAt = new Map<string, number>();
  const samples: number[] = [];
  const done = new Set<string>();
  const outcomes = new Map<string, string>();
  function inputStored(event: BgEvent, at: number): void {
    const id = event.deploymentid;
    if (id === undefined) return;
    if (event.type === "bluegreen.smoke.passed" || event.type === "bluegreen.monitor.passed")
      storedAt.set(id, at);
  }
  const answers: Record<string, string> = {
    "bluegreen.deploy.started": "deploy.requested",
    "bluegreen.switch.requested": "smoke.passed",
    "bluegreen.deploy.succeeded": "monitor.passed",
  };
  const sub = nc.subscribe("bluegreen.*.*.*", {
    callback: (err, msg) => {
      if (err) return;
      // Plain JSON: the bench must not spend the CPU it measures the coordinator with.
      const e = JSON.parse(new TextDecoder().decode(msg.data)) as BgEvent;
      const id = e.deploymentid;
      if (id === undefined) return;
      if (answers[e.type] !== undefined) {
        const since = storedAt.get(id);
        if (since !== undefined) samples.push(performance.now() - since);
        storedAt.delete(id);
      }
      if (
        [
          "bluegreen.deploy.succeeded",
          "bluegreen.deploy.failed",
          "bluegreen.deploy.rejected",
          "bluegreen.deploy.rolled_back",
        ].includes(e.type)
      ) {
        done.add(id);
        outcomes.set(id, e.type);
      }
    },
  });

  // 200 deployments at once.
  const cpuBefore = cpuTimeMs(coordinator.process.pid);
  const natsCpuBefore = nats.pids.map(cpuTimeMs);
  const benchCpuBefore = process.cpuUsage();
  t = performance.now();
  await Promise.all(
    Array.from({ length: concurrent }, async (_, i) => {
      const service = serviceName(i);
      const deploymentId = `d-fleet-${String(i).padStart(4, "0")}`;
      const event = createEvent("deploy.requested", {
        service,
        source: "bluegreen/bench/fleet",
        deploymentId,
        id: `${deploymentId}.request`,
        data: { version: "v1.1", requestedBy: "bench" },
      });
      await js.publish(eventSubject(service, "deploy.requested"), encodeEvent(event), {
        msgID: event.id,
        expect: { streamName: STREAM_NAME },
      });
      storedAt.set(deploymentId, performance.now());
    }),
  );
  await waitFor(() => (done.size >= concurrent ? true : undefined), {
    what: `${concurrent} deployments to end`,
    timeoutMs: DEADLINE_MS,
    intervalMs: 100,
    process: coordinator.process,
  }).catch((err: unknown) => console.error(String(err).split("\n")[0]));
  const wallMs = performance.now() - t;

  const metrics = (await httpGet(metricsUrl))?.body ?? "";
  if (process.env.FLEET_DEBUG) {
    for (const type of [
      "deploy.requested",
      "deploy.ready",
      "smoke.passed",
      "switch.done",
      "monitor.started",
      "monitor.passed",
    ]) {
      const lines = metrics
        .split("\n")
        .filter((l) => l.includes(`type="bluegreen.${type}"`))
        .join("\n");
      console.log(
        `  handler p50/p99 ${type}: ${round(histogramQuantile(lines, "bluegreen_coordinator_event_handle_seconds", 0.5) * 1000)} / ${round(histogramQuantile(lines, "bluegreen_coordinator_event_handle_seconds", 0.99) * 1000)} ms`,
      );
    }
  }
  const handlerP99 =
    histogramQuantile(metrics, "bluegreen_coordinator_event_handle_seconds", 0.99) * 1000;
  const status = readFileSync(`/proc/${coordinator.process.pid}/status`, "utf8");
  const hwmKb = Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? Number.NaN);
  const cpuMs = cpuTimeMs(coordinator.process.pid) - cpuBefore;
  const natsCpuMs = nats.pids.map((pid, i) => cpuTimeMs(pid) - (natsCpuBefore[i] ?? 0));
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const benchCpuMs = (benchCpu.user + benchCpu.system) / 1000;
  const completed = [...outcomes.values()].filter((o) => o === "bluegreen.deploy.succeeded").length;
  stopBeating();
  sub.unsubscribe();
  await sim.stop();
  await coordinator.stop();
  await nc.drain();

  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  console.log(
    `fleet: ${completed}/${concurrent} deployments succeeded in ${Math.round(wallMs)} ms (${round((completed / wallMs) * 1000)}/s)`,
  );
  console.log(
    `fleet: answer latency (queueing in the burst included) over ${samples.length} inputs: p50 ${round(p50)} ms, p99 ${round(p99)} ms, max ${round(Math.max(...samples))} ms`,
  );
  console.log(
    `fleet: coordinator handler p99 (from /metrics) ${round(handlerP99)} ms; CPU ${Math.round(cpuMs)} ms for the deployments; peak RSS ${round(hwmKb / 1024)} MB`,
  );
  console.log(
    `fleet: CPU during the burst: nats-server ${natsCpuMs.map((ms) => Math.round(ms)).join(" + ")} ms, this bench (simulated agents) ${Math.round(benchCpuMs)} ms, on ${availableParallelism()} cores`,
  );
  console.log(
    JSON.stringify({
      bench: "fleet",
      services,
      concurrent,
      completed,
      handle_p99_ms: round(handlerP99),
      coordinator_rss_mb: round(hwmKb / 1024),
      nats_nodes: natsNodes,
    }),
  );
}
