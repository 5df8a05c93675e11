// Lightweight simulated agents for the coordinator's own suites and the fleet bench: a
// node agent, a switcher and a monitor in one object, answering events as the real ones do
// (the switcher writes the active-colour record with compare-and-set, like the real one).
// What they answer is chosen per version: a version containing "smoke-fail" fails smoke,
// "breach" breaches its SLO after the switch, "slow" never answers the monitor.

import {
  type ActiveRecord,
  activeRecordSchema,
  type BgEvent,
  Buckets,
  createEvent,
  type EventDataInput,
  type EventName,
  encodeEvent,
  eventSubject,
  nodeId,
  parseEvent,
  STREAM_NAME,
} from "@bluegreen/contracts";
import type { JetStreamClient, KV, NatsConnection, Subscription } from "nats";

const ANSWERED: readonly string[] = ["deploy.started", "switch.requested", "switch.done"];

export interface SimAgentsOptions {
  /** Delay before each answer, in ms (default 0). */
  delayMs?: number;
  /** Publish with JetStream acks (default true); the bench may use plain publishes. */
  acked?: boolean;
  /** Told of every answer once the stream acknowledged it (the bench times from here). */
  onPublished?: (event: BgEvent, at: number) => void;
}

export class SimAgents {
  private sub: Subscription | undefined;
  private active!: KV;
  private js!: JetStreamClient;
  readonly seen: BgEvent[] = [];
  private pending = new Set<Promise<unknown>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: SimAgentsOptions = {},
  ) {}

  async start(): Promise<this> {
    this.js = this.nc.jetstream();
    this.active = await this.js.views.kv(Buckets.active, { history: 10 });
    this.sub = this.nc.subscribe("bluegreen.*.*.*", {
      callback: (err, msg) => {
        if (err) return;
        // Only the coordinator's commands are answered; everything else is skipped unparsed.
        const type = msg.subject.split(".").slice(2).join(".");
        if (!ANSWERED.includes(type)) return;
        const parsed = parseEvent(msg.data);
        if (!parsed.ok) return;
        const work = this.answer(parsed.event).catch(() => undefined);
        this.pending.add(work);
        void work.finally(() => this.pending.delete(work));
      },
    });
    return this;
  }

  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    await Promise.all([...this.pending]);
  }

  /** Seeds the active-colour record (as the switcher would adopt it). */
  async seedActive(service: string, record: ActiveRecord): Promise<number> {
    return this.active.put(service, new TextEncoder().encode(JSON.stringify(record)));
  }

  private async emit<N extends EventName>(
    name: N,
    cause: BgEvent,
    data: EventDataInput<N>,
    suffix: string = name,
  ): Promise<void> {
    const event = createEvent(name, {
      service: cause.subject,
      source: "bluegreen/sim/agents",
      deploymentId: cause.deploymentid,
      id: `${cause.id}.${suffix}`.slice(0, 128),
      data,
    });
    const subject = eventSubject(event.subject, name);
    if (this.opts.acked === false) this.nc.publish(subject, encodeEvent(event));
    else
      await this.js.publish(subject, encodeEvent(event), {
        msgID: event.id,
        expect: { streamName: STREAM_NAME },
      });
    this.opts.onPublished?.(event as BgEvent, performance.now());
  }

  private async answer(event: BgEvent): Promise<void> {
    if (this.opts.delayMs) await new Promise((r) => setTimeout(r, this.opts.delayMs));
    this.seen.push(event);
    switch (event.type) {
      case "bluegreen.deploy.started":
        return this.deploy(event as BgEvent<"deploy.started">);
      case "bluegreen.switch.requested":
        return this.switchTo(event as BgEvent<"switch.requested">);
      case "bluegreen.switch.done":
        return this.watch(event as BgEvent<"switch.done">);
      default:
    }
  }

  private async deploy(e: BgEvent<"deploy.started">): Promise<void> {
    const { version, color } = e.data;
    await Promise.all(
      e.data.nodes.map(async (n) => {
        const node = nodeId(n);
        const tag = node.replace(/[^A-Za-z0-9]/g, "-");
        await this.emit(
          "deploy.ready",
          e,
          { node, color, version, durationMs: 1, attempts: 1 },
          `ready-${tag}`,
        );
        const report = {
          node,
          color,
          version,
          durationMs: 1,
          checks: [{ name: "health", ok: true, durationMs: 1, status: 200 }],
        };
        if (version.includes("smoke-fail"))
          await this.emit(
            "smoke.failed",
            e,
            {
              ...report,
              checks: [
                {
                  name: "health",
                  ok: false,
                  durationMs: 1,
                  status: 500,
                  message: "expected status 200, got 500",
                },
              ],
              error: {
                code: "BG_ERR_SMOKE_FAILED",
                message: `smoke checks failed on ${node}: health`,
                retryable: false,
              },
            },
            `smoke-${tag}`,
          );
        else await this.emit("smoke.passed", e, report, `smoke-${tag}`);
      }),
    );
  }

  private async switchTo(e: BgEvent<"switch.requested">): Promise<void> {
    const started = Date.now();
    const entry = await this.active.get(e.subject);
    const live = entry !== null && entry.operation === "PUT";
    const revision = live ? entry.revision : 0;
    const current = live
      ? activeRecordSchema.parse(JSON.parse(new TextDecoder().decode(entry.value)))
      : undefined;
    const base = { to: e.data.to, reason: e.data.reason };
    if (revision !== e.data.expectedRevision) {
      await this.emit("switch.failed", e, {
        ...base,
        stage: "fence",
        error: {
          code: "BG_ERR_SWITCH_STALE_REVISION",
          message: `switch of '${e.subject}' to ${e.data.to} expected active-colour revision ${e.data.expectedRevision}, found ${revision}`,
          retryable: false,
        },
        restored: true,
        activeColor: current?.color ?? null,
      });
      return;
    }
    const record: ActiveRecord = {
      color: e.data.to,
      version: e.data.version ?? null,
      switchedAt: new Date().toISOString(),
      ...(e.deploymentid === undefined ? {} : { deploymentId: e.deploymentid }),
      reason: e.data.reason,
      previous: current === undefined ? null : { color: current.color, version: current.version },
    };
    const bytes = new TextEncoder().encode(JSON.stringify(record));
    const next = live
      ? await this.active.update(e.subject, bytes, revision)
      : await this.active.create(e.subject, bytes);
    await this.emit("switch.done", e, {
      from: current?.color ?? null,
      to: e.data.to,
      changed: current?.color !== e.data.to,
      reason: e.data.reason,
      revision: next,
      ...(e.data.version === undefined ? {} : { version: e.data.version }),
      timings: { totalMs: Date.now() - started },
    });
  }

  private async watch(e: BgEvent<"switch.done">): Promise<void> {
    if (e.data.reason !== "promote" || e.deploymentid === undefined) return;
    const version = e.data.version ?? "";
    if (version.includes("slow")) return;
    const color = e.data.to;
    await this.emit("monitor.started", e, {
      color,
      version,
      instances: [],
      source: "scrape",
      windowMs: 1_000,
      intervalMs: 100,
      deadline: new Date(Date.now() + 1_000).toISOString(),
      resumed: false,
    });
    if (version.includes("breach"))
      await this.emit("slo.breached", e, {
        slo: "error-ratio",
        color,
        checks: 1,
        value: 0.5,
        threshold: 0.05,
        breaches: 1,
        limit: 1,
        action: "rollback",
      });
    else
      await this.emit("monitor.passed", e, {
        color,
        checks: 1,
        warnings: 0,
        inconclusive: 0,
        durationMs: 1_000,
      });
  }
}
