import { BgError } from "@bluegreen/contracts";
import { type Bus, childLogger, type Logger, retryTransient } from "@bluegreen/runtime";
import type { NodeCommand, NodeInput } from "./decide.ts";
import { deployNode, type NodeDeployResult, NodeOutcome } from "./deploy-node.ts";
import { deployFailed, type EventMaker, eventMaker } from "./events.ts";
import type { ExecutorFactory } from "./executors/factory.ts";
import type { StepLedger } from "./interrupted.ts";
import type { NodeAgentMetrics } from "./metrics.ts";
import { type DeployPlan, planDeploy } from "./plan.ts";
import type { ResultStore } from "./store.ts";

/** The abort reason used when the agent itself stops: the deploy is redelivered, not failed. */
export const SHUTDOWN = "the node agent stopping";
/**
 * How long storing a finished deploy's result rides out NATS being away (a server restarting,
 * a cluster electing a leader) before the message is left to be redelivered.
 */
const RECORD_RETRY_MS = 30_000;

export interface EffectsDeps {
  readonly bus: Bus;
  readonly results: ResultStore;
  readonly logger: Logger;
  readonly metrics?: NodeAgentMetrics | undefined;
  readonly executorFor: ExecutorFactory;
  /** Notes running steps (the agent's `state_dir`); none without one. */
  readonly ledger?: StepLedger | undefined;
  /** Feeds an input back to the (deployment, node) of `key`: a deploy's end. */
  readonly feed: (key: string, input: NodeInput) => Promise<void>;
}

interface Run {
  readonly deploymentId: string;
  readonly controller: AbortController;
  /** Settles when the deploy's result is stored and published (rejects if it could not be). */
  readonly done: Promise<void>;
}

type RunCommand = Extract<NodeCommand, { kind: "run" }>;

/**
 * Carries out what `decide` says, against the world: runs a deploy (`deploy-node.ts`, in the
 * background: its end comes back as an input), aborts one, stores a result, publishes events.
 * Holds the deploys running in this process and their abort controllers.
 */
export class NodeEffects {
  private readonly runs = new Map<string, Run>();

  constructor(private readonly deps: EffectsDeps) {}

  async carryOut(key: string, command: NodeCommand): Promise<NodeInput | undefined> {
    switch (command.kind) {
      case "run":
        this.start(key, command);
        return undefined;
      case "abort":
        this.runs.get(key)?.controller.abort(command.by);
        return undefined;
      case "store":
        return this.store(key, command.record);
      case "publish":
        for (const event of command.events) await this.deps.bus.publish(event);
        return undefined;
    }
  }

  /** The deploy running for a key: settles once its result is stored and published. */
  running(key: string): Promise<void> | undefined {
    return this.runs.get(key)?.done;
  }

  /** The keys of a deployment's deploys running here. */
  runningOf(deploymentId: string): string[] {
    return [...this.runs].filter(([, run]) => run.deploymentId === deploymentId).map(([k]) => k);
  }

  /** Deploys in progress in this process, by result key. */
  get inProgress(): string[] {
    return [...this.runs.keys()];
  }

  /** Stops every running deploy; each is left for redelivery. */
  stopAll(): void {
    for (const run of this.runs.values()) run.controller.abort(SHUTDOWN);
  }

  private async store(key: string, record: Parameters<ResultStore["put"]>[1]) {
    const logger = this.loggerOf(record);
    try {
      const kept = await retryTransient(() => this.deps.results.put(key, record), {
        forMs: RECORD_RETRY_MS,
        onRetry: (err, attempt, retryInMs) =>
          logger.warn({ err, attempt, retryInMs }, "result not stored yet; retrying"),
      });
      return { kind: "stored", record: kept } as const;
    } catch (err) {
      logger.warn({ err }, "result not stored");
      return {
        kind: "storeFailed",
        reason: err instanceof Error ? err.message : String(err),
      } as const;
    }
  }

  private loggerOf(of: { service: string; deploymentId: string; node: string }): Logger {
    const { service, deploymentId, node } = of;
    return childLogger(this.deps.logger, { component: "deploy", service, deploymentId, node });
  }

  private start(key: string, command: RunCommand): void {
    const controller = new AbortController();
    if (command.abortedBy !== undefined) controller.abort(command.abortedBy);
    const done = this.deploy(key, command, controller.signal).finally(() => this.runs.delete(key));
    done.catch(() => undefined); // the deliveries that wait for it see its failure
    this.runs.set(key, { deploymentId: command.deploy.deploymentId, controller, done });
  }

  /** The whole deploy of one node; its end is fed back (and decides what the delivery says). */
  private async deploy(key: string, command: RunCommand, signal: AbortSignal): Promise<void> {
    const logger = this.loggerOf(command.deploy);
    let result: NodeDeployResult;
    try {
      result = await this.runDeploy(command, signal, logger);
    } catch (err) {
      // A bug must not turn into a redelivery that deploys again: record it as a failure.
      logger.error({ err }, "node deploy failed unexpectedly");
      const error = new BgError("BG_ERR_AGENT_INTERNAL", {
        component: "node-agent",
        reason: (err instanceof Error ? err.message : String(err)).slice(0, 500),
      });
      result = this.failedBeforeStart(command, error);
    }
    if (signal.reason === SHUTDOWN) {
      await this.deps.feed(key, { kind: "stopped" });
      throw new Error("the node agent stopped during the deploy; it will be redelivered");
    }
    this.deps.metrics?.deploy(command.deploy.service, result.outcome);
    logger.info({ outcome: result.outcome }, "node deploy finished");
    await this.deps.feed(key, { kind: "finished", deploy: command.deploy, result });
  }

  private makeEvent(command: RunCommand): EventMaker {
    return eventMaker(command.deploy.service, command.deploy.deploymentId, this.deps.bus.source);
  }

  /** A deploy that ended before any step: one `deploy.failed` at stage `deploy`. */
  private failedBeforeStart(command: RunCommand, error: BgError): NodeDeployResult {
    const { node, color, version } = command.deploy;
    const of = { node, color, version, activeColor: command.event.data.activeColor };
    return {
      outcome: NodeOutcome.failed,
      final: [deployFailed(this.makeEvent(command), of, "deploy", error)],
    };
  }

  private async runDeploy(
    command: RunCommand,
    signal: AbortSignal,
    logger: Logger,
  ): Promise<NodeDeployResult> {
    const { event, target, definition } = command;
    const failed = (error: BgError) => {
      logger.warn({ code: error.code }, error.message);
      return this.failedBeforeStart(command, error);
    };
    if (definition === undefined) {
      return failed(new BgError("BG_ERR_CONFIG_UNKNOWN_SERVICE", { service: event.subject }));
    }
    let plan: DeployPlan;
    try {
      // The executor boundary checks the version again, before any command exists.
      plan = planDeploy({
        definition,
        deploymentId: command.deploy.deploymentId,
        version: event.data.version,
        color: event.data.color,
        node: target.node,
        workdirOverride: target.workdirOverride,
      });
    } catch (err) {
      if (err instanceof BgError) return failed(err);
      throw err;
    }
    logger.info(
      { version: plan.version, steps: plan.steps.length, executor: definition.deploy.executor },
      "node deploy started",
    );
    const { metrics } = this.deps;
    return deployNode({
      plan,
      definition,
      openExecutor: () => this.deps.executorFor(target, plan, definition),
      makeEvent: this.makeEvent(command),
      publish: async (e) => {
        await this.deps.bus.publish(e);
      },
      signal,
      activeColor: event.data.activeColor,
      logger,
      ...(metrics === undefined ? {} : { observe: metrics.observer(command.deploy.service) }),
      ...(this.deps.ledger === undefined
        ? {}
        : { running: this.deps.ledger.forDeploy(command.deploy) }),
    });
  }
}
