import type { SwitcherConfig } from "@bluegreen/contracts";
import {
  type AgentContext,
  type AgentMainOptions,
  type Bus,
  childLogger,
  type Logger,
  type ServiceDefinitions,
  type StartedAgent,
  TransitionRunner,
  VERSION,
} from "@bluegreen/runtime";
import { realPorts } from "./adapters.ts";
import {
  decide,
  type SwitchCommand,
  type SwitchContext,
  type SwitchDecision,
  type SwitcherState,
} from "./decide.ts";
import { SwitchEffects } from "./effects.ts";
import { type SwitchMetrics, switchMetrics } from "./metrics.ts";
import type { NginxSettings, SwitchPorts } from "./ports.ts";
import { ReloadPacer } from "./reload-pacer.ts";
import { REQUEST_WINDOW_MS, RequestLogReader } from "./request-log.ts";
import { MemoryRecordStore } from "./store.ts";
import { Switcher, type SwitchRunner, serves } from "./switcher.ts";

/**
 * The switcher's wiring: config → the real ports (KV, disk, execFile, HTTP) → the transition
 * runner (one switch at a time per service) → the consumer of `switch.requested`.
 */

/** What `runAgent` starts for the switcher role. */
export async function startSwitcher(ctx: AgentContext<"switcher">): Promise<StartedAgent> {
  const { config, bus, definitions, logger } = ctx;
  const ports = realPorts(ctx.kv.active, childLogger(logger, { component: "switcher" }));
  const nginx = nginxSettings(config.nginx);
  const metrics = switchMetrics(ctx.metrics);
  const runner = switchRunner({
    serves: (service) => serves(config.services, service),
    definitions,
    ports,
    nginx,
    bus,
    metrics,
    logger,
  });
  const switcher = new Switcher({
    config,
    bus,
    definitions,
    ports,
    nginx,
    runner,
    logger,
    metrics,
  });
  await switcher.start();
  const readers = config.request_logs.map(
    (log) =>
      new RequestLogReader({
        service: log.service,
        listen: log.listen,
        windowMs: REQUEST_WINDOW_MS,
        reader: config.agent_id,
        publish: (subject, data) => ctx.nc.publish(subject, data),
        logger: childLogger(logger, { component: "request-log" }),
      }),
  );
  await Promise.all(readers.map((r) => r.start()));
  return {
    stop: async () => {
      await Promise.all(readers.map((r) => r.stop()));
      await switcher.stop();
    },
    heartbeat: () => ({ services: switcher.served() }),
  };
}

/** The host-local part of a switch, from the switcher's config; one reload pacer per nginx. */
export function nginxSettings(config: SwitcherConfig["nginx"]): NginxSettings {
  return {
    testCommand: config.test_command,
    reloadCommand: config.reload_command,
    commandTimeoutMs: config.command_timeout,
    pacer: new ReloadPacer(),
  };
}

export interface SwitchRunnerDeps {
  /** Whether this switcher serves a service. */
  serves(service: string): boolean;
  definitions: Pick<ServiceDefinitions, "get">;
  ports: SwitchPorts;
  nginx: NginxSettings;
  bus: Pick<Bus, "emit">;
  metrics: SwitchMetrics;
  /** The agent's root logger (each line gets one `component`). */
  logger?: Logger | undefined;
}

/**
 * A request's handling: key = service, state = what this switcher answered for it (in
 * memory), input = a request or a command's result, commands carried out by SwitchEffects.
 */
export function switchRunner(deps: SwitchRunnerDeps): SwitchRunner {
  const effects = new SwitchEffects(deps);
  const log = (decision: SwitchDecision) => {
    const request = decision.commands[0]?.request;
    const logger = request === undefined ? undefined : effects.loggerOf(request);
    if (logger === undefined || request === undefined) return;
    const { to, reason, expectedRevision } = request;
    logger[levelOf(decision)]({ to, reason, expectedRevision }, decision.note);
  };
  return new TransitionRunner({
    store: new MemoryRecordStore<SwitcherState, SwitchCommand>(),
    decide,
    context: (service): SwitchContext => ({
      now: deps.ports.now().getTime(),
      clock: performance.now(),
      serves: deps.serves(service),
      definition: deps.definitions.get(service),
    }),
    carryOut: (command) => effects.carryOut(command),
    // Nothing is left to finish: the records live in memory (a restart forgets them, and the
    // request is redelivered); a command that threw has its request redelivered and decided anew.
    pendingToFinish: async () => [],
    onTransition: (_service, _before, decision) => log(decision),
    onUnchanged: (_service, _input, decision) => log(decision),
  });
}

/** A refusal warns, a failure is an error, the rest is information. */
function levelOf(decision: SwitchDecision): "info" | "warn" | "error" {
  const answer = decision.commands.find((c) => c.kind === "answer");
  if (answer === undefined || answer.again || answer.outcome.kind === "done") return "info";
  return answer.outcome.result === "refused" ? "warn" : "error";
}

/** The agent's process entry: `bluegreen-switcher` (main.ts) and `bluegreen agent switcher`. */
export const SWITCHER_MAIN: AgentMainOptions<"switcher"> = {
  command: "bluegreen-switcher",
  role: "switcher",
  description: `Runs the switcher agent on the nginx host: owns each served service's active-upstream file,
answers switch.requested with switch.done / switch.failed (nginx test, reload, verification
through nginx), checks the files for drift at start-up.`,
  start: startSwitcher,
  version: VERSION,
  docs: "docs/switcher.md",
};
