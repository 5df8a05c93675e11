// What the pages show, computed from the owners' records: pure functions, no I/O.

import type { ActiveRecord, BgEvent, FreezeRecord, ServiceDefinition } from "@bluegreen/contracts";
import { type DeploymentState, freezeOf, isTerminal } from "@bluegreen/coordinator";
import type { WatchState } from "@bluegreen/monitor";
import type { HeartbeatEvent } from "@bluegreen/runtime";

/** A heartbeat older than this many of its intervals counts as stale (as `bluegreen agents`). */
export const MISSED_BEATS = 3;

export interface ActiveView {
  color: string;
  version: string | null;
  revision: number;
  switchedAt: string | null;
}

export interface AgentView {
  key: string;
  role: string;
  agentId: string;
  host: string;
  version: string;
  state: string;
  services: string[];
  color: string | null;
  nodes: { node: string; healthy: boolean }[];
  leader: boolean;
  lastSeen: string;
  alive: boolean;
}

export interface DeploymentSummary {
  deploymentId: string;
  version: string;
  phase: string;
  requestedAt: string;
  requestedBy: string | null;
  phaseSince: string;
  /** Set once it ended: from the request to the outcome. */
  durationMs: number | null;
  color: string | null;
  manualPromotion: boolean;
}

export interface FleetRow {
  service: string;
  /** The definition's KV revision; null when only state exists. */
  revision: number | null;
  active: ActiveView | null;
  inFlight: DeploymentSummary | null;
  last: DeploymentSummary | null;
  agents: { alive: number; stale: number };
  lastEvent: { id: string; type: string; time: string } | null;
  /** The freeze holding now (the service's own or every service's), or null. */
  freeze: FreezeView | null;
}

export interface FreezeView {
  /** `service`: this one; `all`: every service. */
  scope: "service" | "all";
  by: string;
  reason: string;
  /** Null: until lifted. */
  until: string | null;
}

export interface SloSeries {
  name: string;
  max: number;
  onBreach: string;
  /** [time ms, measured value or null, verdict] per check round. */
  points: [number, number | null, string][];
  /** Time of the breach that decided, if any. */
  breachAt: number | null;
}

export interface WatchView {
  deploymentId: string;
  color: string;
  status: string;
  startedAt: number;
  deadline: number;
  checks: number;
  endReason: string | null;
}

export function activeView(record: ActiveRecord, revision: number): ActiveView {
  return {
    color: record.color,
    version: record.version ?? null,
    revision,
    switchedAt: record.switchedAt ?? null,
  };
}

export function agentView(key: string, hb: HeartbeatEvent, now: number): AgentView {
  const d = hb.data;
  const at = Date.parse(hb.time);
  const fresh = Number.isFinite(at) && now - at <= d.intervalMs * MISSED_BEATS;
  return {
    key,
    role: d.role,
    agentId: d.agentId,
    host: d.host,
    version: d.version,
    state: d.state,
    services: [...d.services],
    color: d.color ?? null,
    nodes: (d.nodes ?? []).map((n) => ({ node: n.node, healthy: n.healthy })),
    leader: d.leader === true,
    lastSeen: hb.time,
    alive: fresh && d.state !== "stopped",
  };
}

/** Whether an agent serves a service (`*` serves every one). */
export function serves(agent: AgentView, service: string): boolean {
  return agent.services.includes(service) || agent.services.includes("*");
}

export function summarizeDeployment(d: DeploymentState): DeploymentSummary {
  const end = isTerminal(d.phase) ? (d.outcome?.at ?? d.updatedAt) : undefined;
  return {
    deploymentId: d.deploymentId,
    version: d.version,
    phase: d.phase,
    requestedAt: d.requestedAt,
    requestedBy: d.requestedBy ?? null,
    phaseSince: d.phaseSince,
    durationMs: end === undefined ? null : Math.max(0, Date.parse(end) - Date.parse(d.requestedAt)),
    color: d.plan?.targetColor ?? null,
    manualPromotion: d.manualPromotion,
  };
}

/** Newest first; between two requested at the same time, the lower id first (as the CLI). */
export function newestFirst(a: DeploymentState, b: DeploymentState): number {
  return (
    b.requestedAt.localeCompare(a.requestedAt) ||
    (a.deploymentId < b.deploymentId ? -1 : a.deploymentId > b.deploymentId ? 1 : 0)
  );
}

export interface RowInputs {
  service: string;
  revision: number | null;
  active: ActiveView | null;
  /** The service's deployments, newest first. */
  deployments: readonly DeploymentState[];
  agents: readonly AgentView[];
  lastEvent: BgEvent | undefined;
  /** The stored freezes by service (`_all` for every service), expired ones too. */
  freezes: ReadonlyMap<string, FreezeRecord>;
  now: Date;
}

export function fleetRow(i: RowInputs): FleetRow {
  const running = i.deployments.find((d) => !isTerminal(d.phase));
  const last = i.deployments.find((d) => isTerminal(d.phase));
  const freeze = freezeOf(i.freezes, i.service, i.now);
  let alive = 0;
  let stale = 0;
  for (const a of i.agents) {
    if (!serves(a, i.service)) continue;
    if (a.alive) alive++;
    else stale++;
  }
  return {
    service: i.service,
    revision: i.revision,
    active: i.active,
    inFlight: running === undefined ? null : summarizeDeployment(running),
    last: last === undefined ? null : summarizeDeployment(last),
    agents: { alive, stale },
    lastEvent:
      i.lastEvent === undefined
        ? null
        : { id: i.lastEvent.id, type: i.lastEvent.type, time: i.lastEvent.time },
    freeze:
      freeze === undefined
        ? null
        : {
            scope: freeze.scope,
            by: freeze.by,
            reason: freeze.reason,
            until: freeze.until ?? null,
          },
  };
}

/** The nodes of each colour, as the definition names them. */
export function nodesOf(def: ServiceDefinition): Record<"blue" | "green", string[]> {
  const list = (c: "blue" | "green") => {
    const n = def.nodes[c];
    return (Array.isArray(n) ? n : [n]).map((x) => `${x.host}:${x.port}`);
  };
  return { blue: list("blue"), green: list("green") };
}

export function watchView(w: WatchState): WatchView {
  return {
    deploymentId: w.deploymentId,
    color: w.color,
    status: w.status,
    startedAt: w.startedAt,
    deadline: w.deadline,
    checks: w.checks,
    endReason: w.endReason ?? null,
  };
}

/**
 * Adds the watch's newest round to each SLO's series (a round already there, by its time, is
 * not added twice): the measured values over the window, against the limit.
 */
export function addRound(series: Map<string, SloSeries>, w: WatchState): Map<string, SloSeries> {
  for (const slo of w.monitor.slos) {
    let s = series.get(slo.name);
    if (s === undefined) {
      s = { name: slo.name, max: slo.max, onBreach: slo.on_breach, points: [], breachAt: null };
      series.set(slo.name, s);
    }
    const counters = w.slos[slo.name];
    const last = counters?.last;
    if (last === undefined || w.checks === 0) continue;
    const at = w.lastCheckAt;
    if (!s.points.some((p) => p[0] === at)) {
      s.points.push([at, last.value, last.verdict]);
      s.points.sort((a, b) => a[0] - b[0]);
    }
    if (w.status === "breached" && w.endReason?.includes(slo.name) && s.breachAt === null)
      s.breachAt = w.endedAt ?? at;
  }
  return series;
}

/** A breach event marks its SLO's series (the value and the time it was published). */
export function markBreach(series: Map<string, SloSeries>, event: BgEvent): void {
  if (event.type !== "bluegreen.slo.breached") return;
  const data = event.data as { slo: string; value: number; threshold: number };
  const at = Date.parse(event.time);
  let s = series.get(data.slo);
  if (s === undefined) {
    s = { name: data.slo, max: data.threshold, onBreach: "rollback", points: [], breachAt: null };
    series.set(data.slo, s);
  }
  s.breachAt = at;
  if (!s.points.some((p) => p[1] === data.value && Math.abs(p[0] - at) < 2_000))
    s.points.push([at, data.value, "breach"]);
  s.points.sort((a, b) => a[0] - b[0]);
}
