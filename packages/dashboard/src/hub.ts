// The dashboard's picture of the fleet, kept current: the owners' records (read through their
// stores, followed by KV watches) and the audit stream (runtime's `readStream`, following from
// where the picture was taken). Pages subscribe to what changed; nothing here writes anything.

import {
  type BgEvent,
  Buckets,
  deploymentKey,
  FREEZE_ALL,
  type FreezeRecord,
  freezeHolds,
  freezeKey,
  freezeRecordSchema,
  parseEvent,
  STREAM_NAME,
} from "@bluegreen/contracts";
import { type DeploymentState, DeploymentStore } from "@bluegreen/coordinator";
import { type WatchState, WatchStore } from "@bluegreen/monitor";
import {
  type HeartbeatEvent,
  type Logger,
  readStream,
  ServiceDefinitions,
} from "@bluegreen/runtime";
import { ActiveStore } from "@bluegreen/switcher";
import type { JetStreamClient, KV, NatsConnection } from "nats";
import type { SeqEvent } from "./history.ts";
import {
  type ActiveView,
  type AgentView,
  activeView,
  addRound,
  agentView,
  type FleetRow,
  fleetRow,
  markBreach,
  newestFirst,
  type SloSeries,
} from "./views.ts";

/** What changed: a stream event (with its sequence), or the record of a kind under a service. */
export type HubChange =
  | { kind: "event"; seq: number; event: BgEvent }
  | { kind: "row"; row: FleetRow }
  | { kind: "deployment"; service: string; deploymentId: string }
  | { kind: "watch"; service: string; deploymentId: string }
  | { kind: "service"; service: string }
  | { kind: "freezes" }
  | { kind: "agents" };

type Listener = (change: HubChange) => void;

/** Events kept in memory for pages that reconnect (older ones are read from the stream). */
const RECENT_EVENTS = 10_000;
/** How often agents' liveness is recomputed (an agent goes stale without any message). */
const LIVENESS_EVERY_MS = 5_000;

/** What is missing on a server where bluegreen never ran (the agents create it). */
function notSetUp(what: string, err: unknown): Error {
  const reason = err instanceof Error ? err.message : String(err);
  return /not found/i.test(reason)
    ? new Error(`${what} does not exist yet: start the agents (or bluegreen apply) first`)
    : (err as Error);
}

export class Hub {
  readonly deployments = new Map<string, DeploymentState>();
  private readonly byService = new Map<string, Set<string>>();
  readonly actives = new Map<string, ActiveView>();
  private readonly heartbeats = new Map<string, HeartbeatEvent>();
  readonly watches = new Map<string, WatchState>();
  /** The stored deploy freezes by service (`_all` for every service), expired ones too. */
  readonly freezes = new Map<string, FreezeRecord>();
  /** SLO series per `<service>.<deploymentId>`. */
  readonly series = new Map<string, Map<string, SloSeries>>();
  private readonly lastEvents = new Map<string, BgEvent>();
  private readonly rows = new Map<string, string>();
  private readonly recent: SeqEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly stops: (() => void)[] = [];
  private definitions!: ServiceDefinitions;
  /** The last stream sequence taken into the picture. */
  lastSeq = 0;
  private stopped = false;
  private livenessSignature = "";

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly logger: Logger,
  ) {}

  static async open(nc: NatsConnection, logger: Logger): Promise<Hub> {
    const hub = new Hub(nc, nc.jetstream(), logger);
    await hub.start();
    return hub;
  }

  private async bucket(name: string): Promise<KV> {
    try {
      return await this.js.views.kv(name, { bindOnly: true });
    } catch (err) {
      throw notSetUp(`KV bucket ${name}`, err);
    }
  }

  private async start(): Promise<void> {
    const stream = await this.js.streams.get(STREAM_NAME).catch((err: unknown) => {
      throw notSetUp(`stream ${STREAM_NAME}`, err);
    });
    this.lastSeq = (await stream.info()).state.last_seq;
    const [deployments, active, agents, watches, services, locks] = await Promise.all([
      this.bucket(Buckets.deployments),
      this.bucket(Buckets.active),
      this.bucket(Buckets.agents),
      this.bucket(Buckets.watches),
      this.bucket(Buckets.services),
      this.bucket(Buckets.locks),
    ]);
    this.definitions = await ServiceDefinitions.open(services, { logger: this.logger });
    this.stops.push(
      this.definitions.onChange((service) => this.touch(service, { kind: "service", service })),
    );
    const deploymentStore = new DeploymentStore(deployments);
    const activeStore = new ActiveStore(active);
    await Promise.all([
      this.follow(deployments, async (key) => {
        const loaded = await deploymentStore.load(key);
        if (loaded === undefined) return this.forgetDeployment(key);
        const d = loaded.state;
        this.deployments.set(key, d);
        const keys = this.byService.get(d.service) ?? new Set<string>();
        this.byService.set(d.service, keys);
        keys.add(key);
        return {
          service: d.service,
          change: { kind: "deployment", service: d.service, deploymentId: d.deploymentId },
        };
      }),
      this.follow(active, async (service) => {
        const got = await activeStore.get(service);
        if (got === undefined) this.actives.delete(service);
        else this.actives.set(service, activeView(got.record, got.revision));
        return { service, change: { kind: "service", service } };
      }),
      this.follow(agents, async (key, value) => {
        const parsed =
          value === undefined ? undefined : parseEvent(value, { expect: ["agent.heartbeat"] });
        if (parsed?.ok) this.heartbeats.set(key, parsed.event as HeartbeatEvent);
        else this.heartbeats.delete(key);
        return { service: undefined, change: { kind: "agents" } };
      }),
      this.follow(
        watches,
        async (service, value) => {
          // Each revision as it was stored: every round adds its point to the series.
          const w = value === undefined ? undefined : WatchStore.parse(value);
          if (w === undefined) return undefined;
          this.watches.set(service, w);
          const key = deploymentKey(service, w.deploymentId);
          this.series.set(key, addRound(this.series.get(key) ?? new Map(), w));
          return {
            service,
            change: { kind: "watch", service, deploymentId: w.deploymentId },
          };
        },
        { history: true },
      ),
      this.follow(
        locks,
        async (key, value) => {
          const service = key.slice(freezeKey("").length);
          const parsed =
            value === undefined
              ? undefined
              : freezeRecordSchema.safeParse(JSON.parse(new TextDecoder().decode(value)));
          if (parsed?.success) this.freezes.set(service, parsed.data);
          else this.freezes.delete(service);
          return service === FREEZE_ALL
            ? { service: undefined, change: { kind: "freezes" } }
            : { service, change: { kind: "service", service } };
        },
        { key: freezeKey(">") },
      ),
    ]);
    for (const service of this.services()) this.refreshRow(service, false);
    this.consumeStream();
    const liveness = setInterval(() => this.recomputeLiveness(), LIVENESS_EVERY_MS);
    this.stops.push(() => clearInterval(liveness));
  }

  /**
   * Follows a bucket: every key's value now (or its whole kept history), then every change.
   * Resolves once the current values are in.
   */
  private async follow(
    kv: KV,
    apply: (
      key: string,
      value: Uint8Array | undefined,
    ) => Promise<{ service: string | undefined; change: HubChange } | undefined>,
    opts: { history?: boolean; key?: string } = {},
  ): Promise<void> {
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => {
      initialized = resolve;
    });
    let loading = true;
    const iter = await kv.watch({
      ...(opts.history ? { include: "history" as never } : {}),
      ...(opts.key === undefined ? {} : { key: opts.key }),
      initializedFn: () => {
        loading = false;
        initialized();
      },
    });
    this.stops.push(() => iter.stop());
    (async () => {
      for await (const entry of iter) {
        if (this.stopped) break;
        try {
          const value = entry.operation === "PUT" ? entry.value : undefined;
          const applied = await apply(entry.key, value);
          if (!loading && applied !== undefined) this.touch(applied.service, applied.change);
        } catch (err) {
          this.logger.warn({ key: entry.key, err: (err as Error).message }, "record skipped");
        }
      }
    })().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, "watch ended"));
    await ready;
  }

  private forgetDeployment(key: string): undefined {
    const d = this.deployments.get(key);
    this.deployments.delete(key);
    if (d !== undefined) this.byService.get(d.service)?.delete(key);
    return undefined;
  }

  /**
   * The events of the stream, from right after the picture was taken, in order: runtime's
   * follower, which reopens its read right after the last event on a reconnect, on missed
   * heartbeats, or when it stalls on a cluster node that died.
   */
  private consumeStream(): void {
    const abort = new AbortController();
    this.stops.push(() => abort.abort());
    const run = async () => {
      while (!this.stopped) {
        try {
          const read = readStream(this.js, {
            follow: true,
            after: this.lastSeq,
            signal: abort.signal,
            connection: this.nc,
          });
          for await (const item of read) {
            if (this.stopped) break;
            if (item.seq <= this.lastSeq) continue;
            this.lastSeq = item.seq;
            if (item.event !== undefined) this.onEvent({ seq: item.seq, event: item.event });
          }
          if (this.stopped) return;
          this.logger.warn("stream read ended; reopening");
        } catch (err) {
          if (this.stopped || this.nc.isClosed()) return;
          this.logger.warn({ err: (err as Error).message }, "stream read interrupted; reopening");
        }
        await new Promise((r) => setTimeout(r, 1_000));
      }
    };
    run().catch(() => undefined);
  }

  private onEvent(item: SeqEvent): void {
    this.recent.push(item);
    if (this.recent.length > RECENT_EVENTS)
      this.recent.splice(0, this.recent.length - RECENT_EVENTS);
    const { event } = item;
    const service = event.subject;
    if (event.type === "bluegreen.slo.breached" && event.deploymentid !== undefined) {
      const key = deploymentKey(service, event.deploymentid);
      const series = this.series.get(key) ?? new Map();
      markBreach(series, event);
      this.series.set(key, series);
    }
    this.emit({ kind: "event", seq: item.seq, event });
    // `_` is every service (a freeze of all): no row of its own.
    if (service.startsWith("_")) return;
    this.lastEvents.set(service, event);
    this.refreshRow(service, true);
  }

  /** The kept events after `after` up to `upTo`, or undefined when they are not all kept. */
  recentAfter(after: number, upTo: number): SeqEvent[] | undefined {
    const first = this.recent[0];
    if (first === undefined || first.seq > after + 1) return undefined;
    return this.recent.filter((e) => e.seq > after && e.seq <= upTo);
  }

  private touch(service: string | undefined, change: HubChange): void {
    this.emit(change);
    if (change.kind === "agents" || change.kind === "freezes") this.recomputeLiveness();
    else if (service !== undefined) this.refreshRow(service, true);
  }

  /**
   * The fleet rows count agents alive and stale and show the freezes holding now: they change
   * only when an agent comes, goes, goes stale or comes back, or changes what it serves (not on
   * every heartbeat), or when a freeze is set, lifted or lapses (its `until` passed).
   */
  private recomputeLiveness(): void {
    const now = new Date();
    const signature = JSON.stringify([
      this.agents().map((a) => [a.key, a.alive, a.services]),
      [...this.freezes].filter(([, f]) => freezeHolds(f, now)),
    ]);
    if (signature === this.livenessSignature) return;
    this.livenessSignature = signature;
    for (const service of this.services()) this.refreshRow(service, true);
  }

  /** Recomputes a service's fleet row; tells the pages when it changed. */
  private refreshRow(service: string, tell: boolean): void {
    const row = this.row(service);
    const json = JSON.stringify(row);
    if (this.rows.get(service) === json) return;
    this.rows.set(service, json);
    if (tell) this.emit({ kind: "row", row });
  }

  row(service: string): FleetRow {
    return fleetRow({
      service,
      revision: this.definitions.entry(service)?.revision ?? null,
      active: this.actives.get(service) ?? null,
      deployments: this.deploymentsOf(service),
      agents: this.agents(),
      lastEvent: this.lastEvents.get(service),
      freezes: this.freezes,
      now: new Date(),
    });
  }

  /** Every service the dashboard knows of: defined, active, or with a deployment. */
  services(): string[] {
    const names = new Set<string>();
    for (const e of this.definitions.list()) names.add(e.service);
    for (const s of this.actives.keys()) names.add(s);
    for (const s of this.byService.keys()) names.add(s);
    return [...names].sort();
  }

  definition(service: string) {
    return this.definitions.entry(service);
  }

  deploymentsOf(service: string): DeploymentState[] {
    const keys = this.byService.get(service) ?? new Set<string>();
    const out: DeploymentState[] = [];
    for (const key of keys) {
      const d = this.deployments.get(key);
      if (d !== undefined) out.push(d);
    }
    return out.sort(newestFirst);
  }

  agents(): AgentView[] {
    const now = Date.now();
    return [...this.heartbeats.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, hb]) => agentView(key, hb, now));
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: HubChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, "page listener failed");
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const stop of this.stops) stop();
    await this.definitions?.stop();
  }
}
