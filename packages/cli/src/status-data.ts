import { type ActiveRecord, Buckets, type FreezeRecord } from "@bluegreen/contracts";
import {
  type DeploymentState,
  deploymentStateSchema,
  freezeOf,
  isTerminal,
} from "@bluegreen/coordinator";
import { type WatchState, WatchStore } from "@bluegreen/monitor";
import { createLogger, keysOf, readHeartbeats } from "@bluegreen/runtime";
import { ActiveStore } from "@bluegreen/switcher";
import type { JetStreamClient, KV } from "nats";
import { openBucket } from "./buckets.ts";
import { readDeployments } from "./deployments.ts";
import { readFreezes } from "./freezes.ts";
import { age } from "./table.ts";

/** What `status` shows of one service. */
export interface ServiceStatus {
  service: string;
  active: { record: ActiveRecord; revision: number } | undefined;
  running: DeploymentState[];
  last: DeploymentState | undefined;
  freeze: FreezeRecord | undefined;
  /** The monitor's watch of the service while it runs (read through the monitor's store). */
  watch: WatchState | undefined;
  /** `role/agentId` of the agents whose fresh heartbeat names the service (or `*`). */
  agents: string[];
}

/** Everything but the deployments, which `status --watch` follows through a KV watch. */
export interface Surroundings {
  names: string[];
  actives: Map<string, { record: ActiveRecord; revision: number }>;
  freezes: Map<string, FreezeRecord>;
  watches: Map<string, WatchState>;
  agents: { id: string; services: readonly string[] }[];
}

const silent = createLogger({ level: "silent" });

async function readWatches(kv: KV | undefined): Promise<Map<string, WatchState>> {
  const out = new Map<string, WatchState>();
  if (kv === undefined) return out;
  const store = new WatchStore(kv, silent);
  for (const service of await store.services()) {
    const loaded = await store.load(service);
    if (loaded?.state.status === "watching") out.set(service, loaded.state);
  }
  return out;
}

/** A heartbeat counts while younger than three of its intervals. */
async function readAgents(kv: KV | undefined, now: number): Promise<Surroundings["agents"]> {
  if (kv === undefined) return [];
  return (await readHeartbeats(kv))
    .filter((hb) => hb.data.state !== "stopped")
    .filter((hb) => now - Date.parse(hb.time) <= 3 * hb.data.intervalMs + 1_000)
    .map((hb) => ({ id: `${hb.data.role}/${hb.data.agentId}`, services: hb.data.services }));
}

export async function readSurroundings(
  js: JetStreamClient,
  only: string | undefined,
): Promise<Surroundings> {
  const [activeKv, servicesKv, watchesKv, agentsKv] = await Promise.all([
    openBucket(js, Buckets.active),
    openBucket(js, Buckets.services),
    openBucket(js, Buckets.watches),
    openBucket(js, Buckets.agents),
  ]);
  const store = activeKv === undefined ? undefined : new ActiveStore(activeKv);
  const names = new Set<string>(only === undefined ? [] : [only]);
  if (only === undefined) {
    for (const key of servicesKv ? await keysOf(servicesKv) : []) names.add(key);
    for (const key of store ? await store.services() : []) names.add(key);
  }
  const actives = new Map<string, { record: ActiveRecord; revision: number }>();
  for (const service of names) {
    const active = await store?.get(service);
    if (active !== undefined) actives.set(service, active);
  }
  const [freezes, watches, agents] = await Promise.all([
    readFreezes(js),
    readWatches(watchesKv),
    readAgents(agentsKv, Date.now()),
  ]);
  return { names: [...names], actives, freezes, watches, agents };
}

/** One row per service, from the surroundings and the deployments (newest first). */
export function statusRows(
  around: Surroundings,
  deployments: readonly DeploymentState[],
  only: string | undefined,
): ServiceStatus[] {
  const names = new Set(around.names);
  if (only === undefined) for (const d of deployments) names.add(d.service);
  return [...names].sort().map((service) => {
    const mine = deployments.filter((d) => d.service === service);
    return {
      service,
      active: around.actives.get(service),
      running: mine.filter((d) => !isTerminal(d.phase)),
      last: mine.find((d) => isTerminal(d.phase)),
      freeze: freezeOf(around.freezes, service),
      watch: around.watches.get(service),
      agents: around.agents
        .filter((a) => a.services.includes(service) || a.services.includes("*"))
        .map((a) => a.id)
        .sort(),
    };
  });
}

export async function readStatus(
  js: JetStreamClient,
  only: string | undefined,
): Promise<ServiceStatus[]> {
  const [around, deployments] = await Promise.all([
    readSurroundings(js, only),
    readDeployments(js, only),
  ]);
  return statusRows(around, deployments, only);
}

/** A stored deployment record, or undefined when it is not one. */
export function parseDeployment(bytes: Uint8Array): DeploymentState | undefined {
  try {
    const parsed = deploymentStateSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const num = (n: number | null | undefined) =>
  n === null || n === undefined ? "n/a" : String(Number(n.toPrecision(3)));

/** `errors=0.012 (max 0.05), p99=…; 12 checks, 40s left` of a running watch. */
export function describeWatch(w: WatchState, now = Date.now()): string {
  const slos = w.monitor.slos.map(
    (slo) => `${slo.name}=${num(w.slos[slo.name]?.last?.value)} (max ${slo.max})`,
  );
  const left = Math.max(0, Math.round((w.deadline - now) / 1000));
  return `${slos.join(", ")}; ${w.checks} checks, ${left}s left`;
}

/** The row's cells: SERVICE ACTIVE IN-FLIGHT PHASE LAST (phase with elapsed when asked). */
export function rowCells(r: ServiceStatus, withElapsed: boolean): string[][] {
  const active =
    r.active === undefined
      ? "-"
      : `${r.active.record.color} ${r.active.record.version ?? "?"} (r${r.active.revision})`;
  const first = r.running[0];
  const label = (d: DeploymentState) =>
    `${d.deploymentId} ${d.version}${d.kind === undefined ? "" : ` [${d.kind}]`}`;
  const phase = (d: DeploymentState) => (withElapsed ? `${d.phase} ${age(d.phaseSince)}` : d.phase);
  const last =
    r.last === undefined ? "-" : `${r.last.deploymentId} ${r.last.version} ${r.last.phase}`;
  const rows = [
    [
      r.service,
      active,
      first === undefined ? "-" : label(first),
      first === undefined ? "-" : phase(first),
      last,
    ],
  ];
  for (const more of r.running.slice(1)) rows.push(["", "", label(more), phase(more), ""]);
  return rows;
}
