import {
  type BgEvent,
  filterSubject,
  type ServiceDefinition,
  type SwitcherConfig,
} from "@bluegreen/contracts";
import {
  type Bus,
  type Consumption,
  childLogger,
  type Logger,
  type ServiceDefinitions,
  type TransitionRunner,
} from "@bluegreen/runtime";
import type {
  SwitchCommand,
  SwitchContext,
  SwitcherState,
  SwitchInput,
  SwitchRequest,
} from "./decide.ts";
import { retryDue, type StandingDrift, standingAfter } from "./drift.ts";
import { checkDrift, type DriftReport } from "./drift-check.ts";
import { DriftWatch } from "./drift-watch.ts";
import type { SwitchMetrics } from "./metrics.ts";
import type { NginxSettings, SwitchPorts } from "./ports.ts";

/**
 * The switcher agent: answers every `switch.requested` for the services it serves with a
 * `switch.done` or a `switch.failed` (the transition runner: one switch at a time per service,
 * services in parallel). Before it takes requests, it checks each owned upstream file for drift;
 * while it runs, it watches them and what nginx serves (`DriftWatch`), each check in the
 * service's turn, so that a switch in progress is never taken for drift.
 */

/** A request's handling, for one service at a time (built in start.ts). */
export type SwitchRunner = TransitionRunner<
  SwitcherState,
  SwitchInput,
  SwitchCommand,
  SwitchContext
>;

export interface SwitcherDeps {
  config: Pick<SwitcherConfig, "agent_id" | "services" | "on_drift"> &
    Partial<Pick<SwitcherConfig, "drift_interval">>;
  bus: Pick<Bus, "consume" | "emit">;
  definitions: Pick<ServiceDefinitions, "get" | "list">;
  ports: SwitchPorts;
  nginx: NginxSettings;
  runner: Pick<SwitchRunner, "apply" | "idle" | "within">;
  /** The agent's root logger (each line gets one `component`). */
  logger: Logger;
  /** Counts drift found (start-up and running), by action. */
  metrics?: Pick<SwitchMetrics, "drift"> | undefined;
}

/** Handlers running at once; the runner keeps each service to one at a time. */
export const CONSUMER_CONCURRENCY = 8;
/**
 * How long a request delivered to a switcher that died stays unanswered before JetStream
 * redelivers it. A switch in progress keeps its request (the consumer sends `working` every
 * half ack wait, also while it queues behind another switch of the service), so this need not
 * cover `traffic.switch_timeout`; it must stay well below the coordinator's switching deadline
 * (`switch_timeout` + 5 s), so that a switcher killed mid-switch and restarted (systemd:
 * `RestartSec=5s`) still carries the request out while the deployment waits for it.
 */
export const ACK_WAIT_MS = 10_000;

/** The running drift check's period when the config does not say (`drift_interval`). */
export const DRIFT_INTERVAL_MS = 5_000;

/** What a standing drift is: the same colours found again are the same drift. */
function standingKey(drift: DriftReport): string {
  return `${drift.recorded}/${drift.found}/${drift.served ?? "-"}`;
}

/** Whether a switcher configured with `services` serves `service` (`*`: every service). */
export function serves(services: readonly string[], service: string): boolean {
  return services.includes("*") || services.includes(service);
}

export class Switcher {
  private readonly logger: Logger;
  private consumption: Consumption | undefined;
  private watch: DriftWatch | undefined;
  /** Per service, the drift last reported while running and left as it was (not repeated). */
  private readonly standing = new Map<string, StandingDrift>();
  /** By service: end the drift checks' looks at nginx (a switch is waiting), queued or running. */
  private readonly looking = new Map<string, Set<AbortController>>();

  constructor(private readonly deps: SwitcherDeps) {
    this.logger = childLogger(deps.logger, { component: "switcher" });
  }

  private get everyService(): boolean {
    return this.deps.config.services.includes("*");
  }

  /** The services this switcher serves that have a definition right now. */
  served(): string[] {
    if (this.everyService) return this.deps.definitions.list().map((e) => e.service);
    return this.deps.config.services.filter((s) => s !== "*");
  }

  async start(): Promise<void> {
    await this.checkDriftAll();
    const filters = this.everyService
      ? [filterSubject({ name: "switch.requested" })]
      : this.served().map((service) => filterSubject({ service, name: "switch.requested" }));
    this.consumption = await this.deps.bus.consume({
      durable: `switcher-${this.deps.config.agent_id}`,
      filters,
      expect: ["switch.requested"],
      handler: (event) => this.handle(event),
      concurrency: CONSUMER_CONCURRENCY,
      ackWaitMs: ACK_WAIT_MS,
    });
    this.logger.info({ services: this.served(), filters }, "taking switch requests");
    this.watch = new DriftWatch({
      files: () =>
        this.served().flatMap((service) => {
          const file = this.deps.definitions.get(service)?.traffic.file;
          return file === undefined ? [] : [{ service, file }];
        }),
      check: (service, why) => this.checkRunning(service, why),
      intervalMs: this.deps.config.drift_interval ?? DRIFT_INTERVAL_MS,
      logger: childLogger(this.deps.logger, { component: "drift" }),
    });
    this.watch.start();
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
    await this.consumption?.stop();
    await this.deps.runner.idle();
  }

  /**
   * One request; runs after the requests queued before it for the same service. A drift
   * check looking at what nginx serves is cut short: the switch changes that and verifies it.
   */
  async handle(event: BgEvent<"switch.requested">): Promise<void> {
    for (const looks of this.looking.get(event.subject) ?? []) looks.abort();
    await this.deps.runner.apply(event.subject, { kind: "requested", request: requestOf(event) });
  }

  /**
   * While running: one service's file, record and what nginx serves, in the service's turn
   * (after any switch queued before it). Drift that stays as it was reported is published
   * once: `report` leaves it; a repair that failed is tried again with a growing wait
   * (`standingAfter`), not at every file event (its own restore of the file is one). A
   * switch requested meanwhile ends the looks at nginx (`looking`): it does not wait them out.
   */
  private async checkRunning(service: string, why: "file" | "interval"): Promise<void> {
    const def = this.deps.definitions.get(service);
    if (def === undefined) return;
    // Registered before it waits for the turn: a switch requested while this check is
    // queued ends its looks too.
    const looks = new AbortController();
    const looking = this.looking.get(service) ?? new Set<AbortController>();
    this.looking.set(service, looking.add(looks));
    try {
      await this.deps.runner.within(service, () => this.checkInTurn(def, why, looks.signal));
    } finally {
      looking.delete(looks);
      if (looking.size === 0 && this.looking.get(service) === looking) this.looking.delete(service);
    }
  }

  private async checkInTurn(
    def: Readonly<ServiceDefinition>,
    why: "file" | "interval",
    signal: AbortSignal,
  ): Promise<void> {
    const { service } = def;
    const { ports, nginx, config } = this.deps;
    const logger = childLogger(this.deps.logger, { component: "drift", service });
    const standing = this.standing.get(service);
    const nowMs = ports.now().getTime();
    const intervalMs = config.drift_interval ?? DRIFT_INTERVAL_MS;
    if (standing !== undefined && !retryDue(standing, nowMs, intervalMs)) {
      // Waiting to try again: look only, and act at once if the drift is another one.
      const seen = await checkDrift(def, ports, { mode: "report", nginx, running: true, signal });
      if (seen === undefined) {
        if (await this.driftGone(def, standing, signal)) this.standing.delete(service);
        return;
      }
      if (standingKey(seen) === standing.key) return;
    }
    const drift = await checkDrift(def, ports, {
      mode: config.on_drift,
      nginx,
      logger,
      running: true,
      signal,
    });
    if (drift === undefined) {
      if (standing === undefined || (await this.driftGone(def, standing, signal)))
        this.standing.delete(service);
      return;
    }
    if (drift.action === "reported") {
      const key = standingKey(drift);
      this.standing.set(
        service,
        standingAfter(standing, key, {
          mode: config.on_drift,
          nowMs,
          intervalMs,
          served: drift.served !== undefined,
        }),
      );
      if (standing?.key === key) {
        logger.debug({ why }, "drift as reported before; not published again");
        return;
      }
    } else this.standing.delete(service);
    await this.reportDrift(service, drift);
  }

  /**
   * Whether a drift left standing is gone, once a check found none: a file drift is (the file
   * agrees with the record again); a served drift only when nginx's answer names the recorded
   * colour — an answer that names none (nginx reloading, two nginx behind a balancer, looks
   * cut short) keeps it standing, so its wait between repairs does not start over.
   */
  private async driftGone(
    def: Readonly<ServiceDefinition>,
    standing: StandingDrift,
    signal: AbortSignal,
  ): Promise<boolean> {
    if (!standing.served) return true;
    const recorded = (await this.deps.ports.readActive(def.service)).record?.color;
    if (recorded === undefined) return false;
    const served = await this.deps.ports.served?.(def.traffic.verify.url, def, {
      expected: recorded,
      signal,
    });
    return served === recorded;
  }

  private async reportDrift(service: string, drift: DriftReport): Promise<void> {
    this.deps.metrics?.drift(drift.action, drift.while ?? "startup");
    await this.deps.bus.emit("switch.drift", { service, data: drift });
  }

  /** Start-up: every owned file against its record; drift is published and logged. */
  private async checkDriftAll(): Promise<void> {
    for (const service of this.served()) {
      const def: Readonly<ServiceDefinition> | undefined = this.deps.definitions.get(service);
      const logger = childLogger(this.deps.logger, { component: "drift", service });
      if (def === undefined) {
        logger.warn("no service definition yet: no upstream file to check");
        continue;
      }
      try {
        const drift = await checkDrift(def, this.deps.ports, {
          mode: this.deps.config.on_drift,
          nginx: this.deps.nginx,
          logger,
        });
        if (drift !== undefined) await this.reportDrift(service, drift);
      } catch (err) {
        logger.error({ err }, "drift check failed");
      }
    }
  }
}

/** The request as the rules see it: the event's id, service, fence, target and deadline. */
export function requestOf(event: BgEvent<"switch.requested">): SwitchRequest {
  return {
    id: event.id,
    service: event.subject,
    deploymentId: event.deploymentid,
    to: event.data.to,
    reason: event.data.reason,
    expectedRevision: event.data.expectedRevision,
    version: event.data.version,
    deadline: event.data.deadline === undefined ? undefined : Date.parse(event.data.deadline),
  };
}
