import {
  type BgEvent,
  EVENT_NAMES,
  EVENTS,
  type EventName,
  filterSubject,
  NO_SERVICE,
  type NotifierConfig,
} from "@bluegreen/contracts";
import {
  type Bus,
  type Consumption,
  childLogger,
  type Logger,
  readHeartbeats,
  type TransitionRunner,
} from "@bluegreen/runtime";
import type { KV } from "nats";
import type { Delivery, DeliveryCommand, DeliveryContext, DeliveryInput } from "./decide.ts";
import { deliveryKey } from "./decide.ts";
import type { Lane } from "./lane.ts";
import type { NotifierMetrics } from "./metrics.ts";
import { routeSubject, sinksFor } from "./routes.ts";
import { staleAgents } from "./stale.ts";
import { listDeliveries } from "./store.ts";

/**
 * The notifier agent: reads every audit event from the stream (one durable consumer), records
 * a pending delivery per routed sink in KV before it acknowledges the event, and leaves the
 * sending to each sink's lane. It also watches the heartbeats and publishes `agent.stale`.
 */

export type DeliveryRunner = TransitionRunner<
  Delivery,
  DeliveryInput,
  DeliveryCommand,
  DeliveryContext
>;

/** Events consumed at once; each only writes its delivery records (sending happens later). */
export const CONSUMER_CONCURRENCY = 16;
/**
 * An event delivered to a notifier that died before recording it comes back after this long.
 * Recording takes milliseconds (the consumer says `working` every half of it meanwhile).
 */
export const ACK_WAIT_MS = 5_000;

/** Every event that goes to the stream (heartbeats live in KV). */
export const AUDIT_EVENTS = EVENT_NAMES.filter((name) => EVENTS[name].audit !== false);

export interface NotifierDeps {
  config: Pick<NotifierConfig, "agent_id" | "routes" | "stale">;
  bus: Pick<Bus, "consume" | "emit">;
  kv: { notifications: KV; agents: KV };
  runner: Pick<DeliveryRunner, "apply" | "idle">;
  lanes: ReadonlyMap<string, Lane>;
  metrics: NotifierMetrics;
  logger: Logger;
}

export class Notifier {
  private readonly logger: Logger;
  private consumption: Consumption | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private gaugeTimer: NodeJS.Timeout | undefined;
  private readonly announced = new Set<string>();
  private checking: Promise<void> = Promise.resolve();

  constructor(private readonly deps: NotifierDeps) {
    this.logger = childLogger(deps.logger, { component: "notifier" });
  }

  async start(): Promise<void> {
    await this.resume();
    this.consumption = await this.deps.bus.consume({
      durable: `notifier-${this.deps.config.agent_id}`,
      filters: [filterSubject()],
      expect: AUDIT_EVENTS as EventName[],
      handler: (event) => this.handle(event as BgEvent),
      concurrency: CONSUMER_CONCURRENCY,
      ackWaitMs: ACK_WAIT_MS,
      // Pulls left behind by a notifier that was killed hold messages until they expire.
      pullExpiresMs: 5_000,
    });
    const every = this.deps.config.stale.check_interval;
    this.staleTimer = setInterval(() => {
      this.checking = this.checking.then(() => this.checkStale());
    }, every);
    this.gaugeTimer = setInterval(() => this.updateGauges(), 1_000);
    this.logger.info({ sinks: [...this.deps.lanes.keys()] }, "notifying");
  }

  async stop(): Promise<void> {
    clearInterval(this.staleTimer);
    clearInterval(this.gaugeTimer);
    await this.consumption?.stop();
    await this.checking;
    await Promise.all([...this.deps.lanes.values()].map((lane) => lane.stop()));
    await this.deps.runner.idle();
  }

  /** One event: a delivery record per routed sink, stored before the event is acknowledged. */
  async handle(event: BgEvent): Promise<void> {
    const sinks = sinksFor(routeSubject(event), this.deps.config.routes);
    await Promise.all(
      sinks.map(async (sink) => {
        const decision = await this.deps.runner.apply(deliveryKey(sink, event.id), {
          kind: "routed",
          sink,
          eventId: event.id,
          event: event.type.replace(/^bluegreen\./, ""),
          service: event.subject,
          deploymentId: event.deploymentid,
          cloudEvent: event,
        });
        if (decision.changed) this.deps.metrics.routed(sink);
      }),
    );
  }

  /** Start-up: every pending delivery in KV goes back on its lane, at its time. */
  private async resume(): Promise<void> {
    let resumed = 0;
    for (const { key, delivery } of await listDeliveries(this.deps.kv.notifications)) {
      if (delivery.status !== "pending") continue;
      const lane = this.deps.lanes.get(delivery.sink);
      if (lane === undefined) {
        this.logger.warn(
          { key, sink: delivery.sink },
          "pending delivery for a sink no longer configured",
        );
        continue;
      }
      lane.schedule(key, delivery.nextAt);
      resumed++;
    }
    if (resumed > 0) this.logger.info({ resumed }, "pending deliveries resumed");
  }

  /** Publishes `agent.stale` once per silence (its id makes a repeat a duplicate). */
  async checkStale(now = Date.now()): Promise<void> {
    try {
      const beats = await readHeartbeats(this.deps.kv.agents);
      for (const stale of staleAgents(beats, this.deps.config.stale.after, now)) {
        if (this.announced.has(stale.id)) continue;
        const { duplicate } = await this.deps.bus.emit("agent.stale", {
          service: NO_SERVICE,
          data: stale.data,
          id: stale.id,
        });
        this.announced.add(stale.id);
        if (!duplicate) {
          this.deps.metrics.stale();
          this.logger.warn({ ...stale.data }, "agent went silent");
        }
      }
    } catch (err) {
      this.logger.warn({ err }, "stale check failed; will retry");
    }
  }

  private updateGauges(): void {
    for (const [sink, lane] of this.deps.lanes) this.deps.metrics.pending(sink, lane.size);
  }
}
