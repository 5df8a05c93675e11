import {
  BgError,
  type BgEvent,
  filterSubject,
  type ServiceDefinition,
  type SwitcherConfig,
} from "@bluegreen/contracts";
import {
  type Bus,
  type Consumption,
  childLogger,
  type HandlerContext,
  KeyedQueue,
  type Logger,
  type ServiceDefinitions,
} from "@bluegreen/runtime";
import { answerId } from "./answer-id.ts";
import { carryOut, resultOf, type SwitchOutcome } from "./carry-out.ts";
import type { SwitchRequest } from "./decide.ts";
import { checkDrift } from "./drift-check.ts";
import type { SwitchMetrics } from "./metrics.ts";
import type { NginxSettings, SwitchPorts } from "./ports.ts";
import { Recent } from "./recent.ts";
import { ReloadPacer } from "./reload-pacer.ts";

/**
 * The switcher agent: answers every `switch.requested` for the services it serves with a
 * `switch.done` or a `switch.failed`, one switch at a time per service, services in parallel.
 * Before it takes requests, it checks each owned upstream file for drift.
 */

export interface SwitcherDeps {
  config: Pick<SwitcherConfig, "agent_id" | "services" | "nginx" | "on_drift">;
  bus: Bus;
  definitions: Pick<ServiceDefinitions, "get" | "list">;
  ports: SwitchPorts;
  metrics: SwitchMetrics;
  logger: Logger;
}

/** Handlers running at once; the per-service queue keeps each service to one at a time. */
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

export class Switcher {
  private readonly queue = new KeyedQueue();
  private readonly answered = new Recent<SwitchOutcome>();
  private readonly logger: Logger;
  private readonly nginx: NginxSettings;
  private consumption: Consumption | undefined;

  constructor(private readonly deps: SwitcherDeps) {
    this.logger = childLogger(deps.logger, { component: "switcher" });
    this.nginx = {
      testCommand: deps.config.nginx.test_command,
      reloadCommand: deps.config.nginx.reload_command,
      commandTimeoutMs: deps.config.nginx.command_timeout,
      pacer: new ReloadPacer(),
    };
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
      handler: (event, ctx) => this.handle(event, ctx),
      concurrency: CONSUMER_CONCURRENCY,
      ackWaitMs: ACK_WAIT_MS,
    });
    this.logger.info({ services: this.served(), filters }, "taking switch requests");
  }

  async stop(): Promise<void> {
    await this.consumption?.stop();
    await this.queue.idle();
  }

  /** One request; runs after the requests queued before it for the same service. */
  handle(event: BgEvent<"switch.requested">, ctx: Pick<HandlerContext, "logger">): Promise<void> {
    return this.queue.run(event.subject, () => this.process(event, ctx.logger));
  }

  private async process(event: BgEvent<"switch.requested">, parent: Logger): Promise<void> {
    const service = event.subject;
    const logger = childLogger(parent, {
      component: "switch",
      service,
      deploymentId: event.deploymentid,
    });
    const seen = this.answered.get(event.id);
    if (seen !== undefined) {
      logger.info({ eventId: event.id }, "request seen before: answering again, doing nothing");
      await this.publish(event, seen);
      return;
    }
    const req: SwitchRequest = {
      id: event.id,
      service,
      deploymentId: event.deploymentid,
      to: event.data.to,
      reason: event.data.reason,
      expectedRevision: event.data.expectedRevision,
      version: event.data.version,
      deadline: event.data.deadline === undefined ? undefined : Date.parse(event.data.deadline),
    };
    logger.info(
      { to: req.to, reason: req.reason, expectedRevision: req.expectedRevision },
      "switch requested",
    );
    const started = performance.now();
    const def = this.definitionOf(service);
    const deadline = event.data.deadline;
    const expired =
      deadline !== undefined && this.deps.ports.now().getTime() >= Date.parse(deadline);
    if (expired) {
      // The deployment stopped waiting for this answer (this switcher was down or cut off
      // that long): carrying it out now would move traffic under a deployment that ended.
      logger.warn({ deadline }, "switch request past its deadline: refused, nothing touched");
    }
    const outcome = expired
      ? refusal(
          req,
          "expired",
          new BgError("BG_ERR_SWITCH_EXPIRED", { service, to: req.to, deadline }),
        )
      : def instanceof BgError
        ? refusal(req, "config", def)
        : await carryOut(req, def, this.deps.ports, { nginx: this.nginx, logger });
    if (outcome.kind === "failed" && outcome.data.stage === "test")
      this.deps.metrics.nginxTestFailed();
    this.deps.metrics.observe(resultOf(outcome), (performance.now() - started) / 1000);
    this.answered.set(event.id, outcome);
    await this.publish(event, outcome);
  }

  private definitionOf(service: string): Readonly<ServiceDefinition> | BgError {
    if (!this.everyService && !this.deps.config.services.includes(service)) {
      return new BgError("BG_ERR_SWITCH_UNKNOWN_SERVICE", { service });
    }
    return (
      this.deps.definitions.get(service) ??
      new BgError("BG_ERR_CONFIG_UNKNOWN_SERVICE", { service })
    );
  }

  private async publish(event: BgEvent<"switch.requested">, outcome: SwitchOutcome): Promise<void> {
    const common = { service: event.subject, deploymentId: event.deploymentid };
    if (outcome.kind === "done") {
      await this.deps.bus.emit("switch.done", {
        ...common,
        data: outcome.data,
        id: answerId(event.id, "done"),
      });
    } else {
      await this.deps.bus.emit("switch.failed", {
        ...common,
        data: outcome.data,
        id: answerId(event.id, "failed"),
      });
    }
  }

  /** Start-up: every owned file against its record; drift is published and logged. */
  private async checkDriftAll(): Promise<void> {
    for (const service of this.served()) {
      const def = this.deps.definitions.get(service);
      const logger = childLogger(this.logger, { component: "drift", service });
      if (def === undefined) {
        logger.warn("no service definition yet: no upstream file to check");
        continue;
      }
      try {
        const drift = await checkDrift(def, this.deps.ports, {
          mode: this.deps.config.on_drift,
          nginx: this.nginx,
          logger,
        });
        if (drift !== undefined) await this.deps.bus.emit("switch.drift", { service, data: drift });
      } catch (err) {
        logger.error({ err }, "drift check failed");
      }
    }
  }
}

/** A request refused before anything was read or touched. */
function refusal(req: SwitchRequest, stage: "config" | "expired", error: BgError): SwitchOutcome {
  return {
    kind: "failed",
    result: "refused",
    data: {
      to: req.to,
      reason: req.reason,
      stage,
      error: error.toJSON(),
      restored: true,
      activeColor: null,
    },
  };
}
