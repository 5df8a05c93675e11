import {
  type BgEvent,
  type EventDataInput,
  filterSubject,
  type MonitorConfig,
  type ServiceDefinition,
} from "@bluegreen/contracts";
import {
  type Bus,
  type Consumption,
  childLogger,
  type HandlerContext,
  type Logger,
  type ServiceDefinitions,
  sleep,
  TransitionRunner,
} from "@bluegreen/runtime";
import { isWatching, type WatchState } from "./decide/state.ts";
import {
  type Command,
  type Ctx,
  decide,
  type Input,
  startsWatch,
  type WatchSpec,
} from "./decide.ts";
import { Effects } from "./effects.ts";
import { logTransition } from "./log-transition.ts";
import type { MonitorMetrics } from "./metrics.ts";
import type { StatsConnection } from "./sources/nginx.ts";
import type { WatchStore } from "./store.ts";

/**
 * The monitor agent: follows `switch.done` and the terminal deployment events, keeps one watch
 * per service, and resumes the watches it finds in KV when it starts. Every input goes through
 * the transition runner (load → `decide` → store the watch with its commands → carry them
 * out), one at a time per service; different services run side by side.
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
const MAX_RETRY_DELAY_MS = 5_000;

export interface MonitorDeps {
  readonly config: Pick<MonitorConfig, "agent_id" | "services" | "prometheus_url">;
  readonly bus: Pick<Bus, "emit" | "consume">;
  readonly store: Pick<WatchStore, "load" | "save" | "services">;
  readonly definitions: Pick<ServiceDefinitions, "get" | "require" | "list">;
  readonly metrics: MonitorMetrics;
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /** The NATS connection the nginx source subscribes with (`bgstats.<service>`). */
  readonly nats?: StatsConnection;
  readonly now?: () => number;
}

export class Monitor {
  private readonly runner: TransitionRunner<WatchState, Input, Command, Ctx>;
  private readonly effects: Effects;
  private readonly logger: Logger;
  private readonly owner: string;
  private readonly now: () => number;
  private readonly stopping = new AbortController();
  private readonly retrying = new Set<string>();
  private consumptions: Consumption[] = [];

  constructor(private readonly deps: MonitorDeps) {
    this.logger = childLogger(deps.logger, { component: "monitor" });
    this.owner = `monitor/${deps.config.agent_id}`;
    this.now = deps.now ?? Date.now;
    this.effects = new Effects({
      bus: deps.bus,
      apply: (service, input) => this.apply(service, input),
      sources: {
        prometheusUrl: deps.config.prometheus_url,
        ...(deps.env === undefined ? {} : { env: deps.env }),
        nats: deps.nats,
      },
      metrics: deps.metrics,
      logger: deps.logger,
      now: this.now,
    });
    this.runner = new TransitionRunner({
      store: deps.store,
      decide,
      context: () => ({ now: this.now(), owner: this.owner }),
      carryOut: (command, state, service) => this.effects.carryOut(command, state, service),
      onTransition: (service, before, decision) =>
        logTransition(
          this.watchLogger(service, decision.state),
          deps.metrics,
          before,
          decision,
          this.now(),
        ),
      onUnchanged: (service, input, decision) => {
        const quiet = input.kind === "measured" || input.kind === "baseline";
        this.watchLogger(service, decision.state)[quiet ? "debug" : "info"](
          { why: decision.note },
          "nothing to do for the watch",
        );
      },
      onFinishing: (service, stored, todo) =>
        this.watchLogger(service, stored.state)[
          todo.some((c) => c.kind === "publish") ? "info" : "debug"
        ](
          { commands: todo.map((c) => c.kind) },
          "carrying out the stored commands of the watch's last transition",
        ),
    });
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  serves(service: string): boolean {
    return this.deps.config.services.includes("*") || this.deps.config.services.includes(service);
  }

  /** Resumes stored watches, then starts consuming. */
  async start(): Promise<void> {
    for (const service of await this.deps.store.services()) {
      if (this.serves(service)) await this.resume(service);
    }
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
        handler: (event) => this.onDeploymentEnded(event),
      }),
    );
  }

  /** Stops consuming and measuring; stored watches stay "watching" for the next start. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.consumptions.map((c) => c.stop()));
    await this.effects.stop();
    await this.runner.idle();
  }

  /** What the heartbeat says: the services served, and the nodes under watch with their health. */
  heartbeat(): Partial<EventDataInput<"agent.heartbeat">> {
    const services = this.deps.config.services.includes("*")
      ? this.deps.definitions.list().map((e) => e.service)
      : this.deps.config.services.filter((s) => s !== "*");
    const nodes = this.activeWatches().flatMap((w) => {
      const healthy = Object.values(w.slos).every((c) => c.last?.verdict !== "breach");
      return w.instances.map((node) => ({
        node,
        healthy,
        ...(w.version === undefined ? {} : { version: w.version }),
      }));
    });
    return { services: services.slice(0, 1000), nodes: nodes.slice(0, 64) };
  }

  /** The watches this monitor runs right now. */
  activeWatches(): WatchState[] {
    return this.effects
      .running()
      .flatMap((service) => this.runner.peek(service)?.state ?? [])
      .filter((w) => isWatching(w));
  }

  private watchLogger(service: string, state: WatchState | undefined): Logger {
    return childLogger(this.deps.logger, {
      component: "watch",
      service,
      ...(state === undefined ? {} : { deploymentId: state.deploymentId }),
    });
  }

  /** Applies an input (the loops' answers, the terminal events). */
  private apply(service: string, input: Input): Promise<void> {
    return this.guarded(service, async () => {
      await this.runner.apply(service, input);
    });
  }

  private retryLater(service: string, what: string, task: () => Promise<unknown>): void {
    if (this.retrying.has(service) || this.stopped) return;
    this.retrying.add(service);
    void (async () => {
      for (let failures = 1; !this.stopped; failures++) {
        await sleep(
          Math.min(MAX_RETRY_DELAY_MS, 250 * 2 ** Math.min(failures, 5)),
          this.stopping.signal,
        );
        if (this.stopped) return;
        try {
          await task();
          return;
        } catch (err) {
          this.logger.warn({ err, service, failures }, `${what} failed; retrying`);
        }
      }
    })().finally(() => this.retrying.delete(service));
  }

  /**
   * Picks up a stored watch: carries out what a crash left pending, then resumes it if it is
   * still running (announced again, the same deadline, the counters carried over).
   */
  private async resume(service: string): Promise<void> {
    let from: number | undefined;
    const attempt = async () => {
      if (from === undefined) {
        const held = await this.runner.recover(service);
        if (held === undefined || !isWatching(held.state)) return;
        from = held.state.resumes;
      }
      await this.runner.apply(service, { kind: "resume", from });
    };
    try {
      await attempt();
    } catch (err) {
      this.logger.warn({ err, service }, "the stored watch was not resumed; retrying");
      this.retryLater(service, "resuming the watch", attempt);
    }
  }

  private async onSwitchDone(event: BgEvent<"switch.done">, ctx: HandlerContext): Promise<void> {
    const service = event.subject;
    if (!this.serves(service)) {
      ctx.logger.debug("not a service of this monitor; skipped");
      return;
    }
    const facts = {
      deploymentId: event.deploymentid,
      to: event.data.to,
      reason: event.data.reason,
      changed: event.data.changed,
    };
    await this.guarded(service, () =>
      this.runner.within(service, async (tx) => {
        // The definition first: an unknown service is rejected before anything changes.
        const held = await tx.held();
        const watch = startsWatch(held?.state, facts)
          ? specOf(await this.definitionOf(service), facts.to)
          : undefined;
        await tx.apply({
          kind: "switch.done",
          service,
          version: event.data.version,
          ...facts,
          ...(watch === undefined ? {} : { watch }),
        });
      }),
    );
  }

  private async onDeploymentEnded(event: BgEvent<TerminalEvent>): Promise<void> {
    const service = event.subject;
    if (!this.serves(service)) return;
    await this.apply(service, { kind: "deployment.ended", deploymentId: event.deploymentid });
  }

  /**
   * Runs a transition; when it failed after the watch was stored (NATS away while publishing),
   * the stored commands are carried out again in the background until done.
   */
  private async guarded(service: string, task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (err) {
      const held = this.runner.peek(service);
      if (held !== undefined && !held.pendingDone)
        this.retryLater(service, "carrying out the watch's commands", () =>
          this.runner.recover(service),
        );
      throw err;
    }
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
      await sleep(100, this.stopping.signal);
    }
    return this.deps.definitions.require(service);
  }
}

/** What a new watch takes from the definition: the colour's nodes, the monitor section. */
function specOf(definition: Readonly<ServiceDefinition>, color: "blue" | "green"): WatchSpec {
  return {
    instances: definition.nodes[color].map((n) => `${n.host}:${n.port}`),
    monitor: withProbeUrl(definition),
  };
}

/** nginx probes go to `traffic.verify.url`'s origin unless the definition names a URL. */
function withProbeUrl(definition: Readonly<ServiceDefinition>): ServiceDefinition["monitor"] {
  const { monitor } = definition;
  const source = monitor.source;
  const nginx = source.nginx;
  if (nginx?.probe === undefined || nginx.probe.url !== undefined) return monitor;
  const url = new URL(definition.traffic.verify.url).origin;
  return {
    ...monitor,
    source: { ...source, nginx: { ...nginx, probe: { ...nginx.probe, url } } },
  } as ServiceDefinition["monitor"];
}
