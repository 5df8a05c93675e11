import {
  type BgEvent,
  Buckets,
  type EventDataInput,
  filterSubject,
  type MonitorConfig,
  type ServiceDefinition,
} from "@bluegreen/contracts";
import type {
  AgentContext,
  Bus,
  Consumption,
  HandlerContext,
  Logger,
  ServiceDefinitions,
  StartedAgent,
} from "@bluegreen/runtime";
import { childLogger } from "@bluegreen/runtime";
import type { KV } from "nats";
import { createMonitorMetrics, type MonitorMetrics } from "./metrics.ts";
import { type Decision, onDeploymentEnded, onSwitchDone, type StopReason } from "./plan.ts";
import type { SourceSettings } from "./sources/index.ts";
import { type Emit, WatchRunner } from "./watch-runner.ts";
import { isWatching, newWatch, type WatchState } from "./watch-state.ts";
import { WatchStore } from "./watch-store.ts";

/**
 * The monitor agent: follows `switch.done` and the terminal deployment events, keeps one watch
 * per service, and resumes the watches it finds in KV when it starts. Work on one service is
 * serialized; different services run side by side.
 */

export const TERMINAL_EVENTS = [
  "deploy.succeeded",
  "deploy.rolled_back",
  "deploy.failed",
  "deploy.aborted",
] as const;
type TerminalEvent = (typeof TERMINAL_EVENTS)[number];

/** How long a promotion waits for its service's definition to arrive from KV. */
const DEFINITION_WAIT_MS = 2_000;

export interface MonitorDeps {
  readonly config: Pick<MonitorConfig, "agent_id" | "services" | "prometheus_url">;
  readonly bus: Pick<Bus, "emit" | "consume">;
  readonly watches: KV;
  readonly definitions: Pick<ServiceDefinitions, "get" | "require" | "list">;
  readonly metrics: MonitorMetrics;
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: () => number;
}

export class Monitor {
  private readonly runners = new Map<string, WatchRunner>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly store: WatchStore;
  private readonly logger: Logger;
  private readonly owner: string;
  private readonly now: () => number;
  private readonly emit: Emit;
  private consumptions: Consumption[] = [];
  private stopped = false;

  constructor(private readonly deps: MonitorDeps) {
    this.logger = childLogger(deps.logger, { component: "monitor" });
    this.store = new WatchStore(deps.watches, this.logger);
    this.owner = `monitor/${deps.config.agent_id}`;
    this.now = deps.now ?? Date.now;
    this.emit = async (name, opts) => deps.bus.emit(name, opts);
  }

  serves(service: string): boolean {
    return this.deps.config.services.includes("*") || this.deps.config.services.includes(service);
  }

  /** Resumes stored watches, then starts consuming. */
  async start(): Promise<void> {
    await this.resumeAll();
    const durable = `monitor-${this.deps.config.agent_id}`;
    this.consumptions.push(
      await this.deps.bus.consume({
        durable: `${durable}-switch`,
        filters: [filterSubject({ name: "switch.done" })],
        expect: ["switch.done"],
        handler: (event, ctx) => this.onSwitchDone(event, ctx),
      }),
      await this.deps.bus.consume({
        durable: `${durable}-deploy`,
        filters: TERMINAL_EVENTS.map((name) => filterSubject({ name })),
        expect: TERMINAL_EVENTS,
        handler: (event, ctx) => this.onDeploymentEnded(event, ctx),
      }),
    );
  }

  /** Stops consuming and every runner; stored watches stay "watching" for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.consumptions.map((c) => c.stop()));
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
    this.deps.metrics.activeWatches(0);
  }

  /** What the heartbeat says: the services served, and the nodes under watch with their health. */
  heartbeat(): Partial<EventDataInput<"agent.heartbeat">> {
    const services = this.deps.config.services.includes("*")
      ? this.deps.definitions.list().map((e) => e.service)
      : this.deps.config.services.filter((s) => s !== "*");
    const nodes = [...this.runners.values()].flatMap((r) => {
      const w = r.current;
      const healthy = Object.values(w.slos).every((c) => c.last?.verdict !== "breach");
      return w.instances.map((node) => ({
        node,
        healthy,
        ...(w.version === undefined ? {} : { version: w.version }),
      }));
    });
    return { services: services.slice(0, 1000), nodes: nodes.slice(0, 64) };
  }

  /** The watches this monitor runs right now, by service. */
  activeWatches(): WatchState[] {
    return [...this.runners.values()].map((r) => r.current);
  }

  private serialize<T>(service: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(service) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.queues.set(service, settled);
    settled.then(() => {
      if (this.queues.get(service) === settled) this.queues.delete(service);
    });
    return next;
  }

  private async onSwitchDone(event: BgEvent<"switch.done">, ctx: HandlerContext): Promise<void> {
    const service = event.subject;
    if (!this.serves(service)) {
      ctx.logger.debug("not a service of this monitor; skipped");
      return;
    }
    await this.serialize(service, async () => {
      const stored = await this.store.read(service);
      const decision = onSwitchDone(stored.state, {
        deploymentId: event.deploymentid,
        to: event.data.to,
        reason: event.data.reason,
        changed: event.data.changed,
      });
      if (decision.action !== "start") {
        await this.carryOut(decision, ctx.logger);
        return;
      }
      // The definition first: an unknown service is rejected before anything changes.
      const definition = await this.definitionOf(service);
      if (decision.supersede !== undefined)
        await this.stopWatch(decision.supersede, "superseded", ctx.logger);
      await this.startWatch(event, definition, ctx.logger);
    });
  }

  /**
   * The service's definition. One applied a moment ago may not have reached this monitor's
   * copy yet, so wait briefly before BG_ERR_CONFIG_UNKNOWN_SERVICE.
   */
  private async definitionOf(service: string): Promise<Readonly<ServiceDefinition>> {
    const deadline = this.now() + DEFINITION_WAIT_MS;
    while (
      this.deps.definitions.get(service) === undefined &&
      this.now() < deadline &&
      !this.stopped
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return this.deps.definitions.require(service);
  }

  private async onDeploymentEnded(
    event: BgEvent<TerminalEvent>,
    ctx: HandlerContext,
  ): Promise<void> {
    const service = event.subject;
    if (!this.serves(service)) return;
    await this.serialize(service, async () => {
      const stored = await this.store.read(service);
      await this.carryOut(onDeploymentEnded(stored.state, event.deploymentid), ctx.logger);
    });
  }

  private async carryOut(decision: Decision, logger: Logger): Promise<void> {
    if (decision.action === "ignore")
      logger.info({ why: decision.why }, "nothing to do for the watch");
    else if (decision.action === "stop")
      await this.stopWatch(decision.watch, decision.reason, logger);
  }

  private async startWatch(
    event: BgEvent<"switch.done">,
    definition: Readonly<ServiceDefinition>,
    logger: Logger,
  ): Promise<void> {
    const service = event.subject;
    const deploymentId = event.deploymentid as string;
    const color = event.data.to;
    const state = newWatch({
      service,
      deploymentId,
      color,
      version: event.data.version,
      instances: definition.nodes[color].map((n) => `${n.host}:${n.port}`),
      monitor: definition.monitor,
      now: this.now(),
      owner: this.owner,
    });
    const { revision } = await this.store.read(service);
    const written = await this.store.write(state, revision);
    logger.info(
      { color, instances: state.instances, deadline: new Date(state.deadline).toISOString() },
      "watch stored",
    );
    this.run(state, written);
  }

  /** Ends a running watch without a verdict: `monitor.stopped`, then the stored state. */
  private async stopWatch(watch: WatchState, reason: StopReason, logger: Logger): Promise<void> {
    const runner = this.runners.get(watch.service);
    if (runner !== undefined && runner.deploymentId === watch.deploymentId) {
      await runner.stop();
      this.runners.delete(watch.service);
    }
    const stored = await this.store.read(watch.service);
    const current = stored.state;
    if (
      !isWatching(current) ||
      current.deploymentId !== watch.deploymentId ||
      stored.revision === undefined
    ) {
      logger.info({ reason }, "the watch had already ended");
      return;
    }
    await this.emit("monitor.stopped", {
      service: current.service,
      deploymentId: current.deploymentId,
      id: `${current.deploymentId}.stopped`,
      data: { color: current.color, reason, checks: current.checks },
    });
    await this.store.write(
      { ...current, status: "stopped", endedAt: this.now(), endReason: reason },
      stored.revision,
    );
    logger.info(
      { reason, stoppedDeploymentId: current.deploymentId, checks: current.checks },
      "watch stopped",
    );
    this.deps.metrics.activeWatches(this.runners.size);
  }

  /** Picks up every stored watch still running for a served service. */
  private async resumeAll(): Promise<void> {
    for (const service of await this.store.services()) {
      if (!this.serves(service)) continue;
      await this.serialize(service, async () => {
        const stored = await this.store.read(service);
        if (!isWatching(stored.state) || stored.revision === undefined) return;
        const resumed: WatchState = {
          ...stored.state,
          resumes: stored.state.resumes + 1,
          announced: false,
          owner: this.owner,
        };
        const revision = await this.store.write(resumed, stored.revision);
        this.run(resumed, revision);
      });
    }
  }

  private run(state: WatchState, revision: number): void {
    if (this.stopped) return;
    const sources: SourceSettings = {
      prometheusUrl: this.deps.config.prometheus_url,
      ...(this.deps.env === undefined ? {} : { env: this.deps.env }),
    };
    const runner = new WatchRunner(
      {
        store: this.store,
        emit: this.emit,
        metrics: this.deps.metrics,
        logger: this.deps.logger,
        sources,
        now: this.now,
        onEnd: (r) => {
          if (this.runners.get(r.service) === r) this.runners.delete(r.service);
          this.deps.metrics.activeWatches(this.runners.size);
        },
      },
      { state, revision },
    );
    this.runners.set(state.service, runner);
    this.deps.metrics.activeWatches(this.runners.size);
    runner.start();
  }
}

/** The agent's `start` for runtime's `runAgent`. */
export async function startMonitor(ctx: AgentContext<"monitor">): Promise<StartedAgent> {
  const monitor = new Monitor({
    config: ctx.config,
    bus: ctx.bus,
    watches: ctx.kv.watches,
    definitions: ctx.definitions,
    metrics: createMonitorMetrics(ctx.metrics),
    logger: ctx.logger,
  });
  await monitor.start();
  ctx.logger.info(
    {
      services: ctx.config.services,
      bucket: Buckets.watches,
      watches: monitor.activeWatches().length,
    },
    "monitor ready",
  );
  return { stop: () => monitor.stop(), heartbeat: () => monitor.heartbeat() };
}
