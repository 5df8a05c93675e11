import { userInfo } from "node:os";
import {
  BgError,
  type BgEvent,
  type Color,
  createEvent,
  type EventDataInput,
  type EventName,
  filterSubject,
  type NodeAgentConfig,
  nodeId,
  type ServiceDefinition,
} from "@bluegreen/contracts";
import {
  type Bus,
  type Consumption,
  childLogger,
  type HandlerContext,
  type Logger,
  retryTransient,
} from "@bluegreen/runtime";
import { deployNode, type NodeDeployResult, NodeOutcome } from "./deploy-node.ts";
import type { Executor } from "./executors/executor.ts";
import { localExecutor } from "./executors/local.ts";
import { startedExpiresAt } from "./expiry.ts";
import type { NodeAgentMetrics } from "./metrics.ts";
import { NodeHealthPoller } from "./node-health.ts";
import { type DeployPlan, planDeploy } from "./plan.ts";
import { type ResultRecord, type ResultStore, resultKey, storedEvents } from "./results.ts";
import { selectTargets, servedNodes, type Target } from "./targets.ts";

export interface DefinitionSource {
  get(service: string): Readonly<ServiceDefinition> | undefined;
}

export type ExecutorFactory = (
  target: Target,
  plan: DeployPlan,
  definition: Readonly<ServiceDefinition>,
) => Promise<Executor>;

export interface NodeAgentDeps {
  readonly config: Readonly<NodeAgentConfig>;
  readonly bus: Bus;
  readonly definitions: DefinitionSource;
  readonly results: ResultStore;
  readonly logger: Logger;
  readonly metrics?: NodeAgentMetrics;
  /** Defaults to local or SSH, as the definition's `deploy.executor` says. */
  readonly executorFor?: ExecutorFactory;
  /** Messages of one consumer handled at once (several services on one host). Default 4. */
  readonly concurrency?: number;
}

interface Running {
  readonly deploymentId: string;
  readonly controller: AbortController;
  /** Settles when the deploy's result is stored and published (rejects if it could not be). */
  readonly done: Promise<void>;
}

/** The abort reason used when the agent itself stops: the deploy is redelivered, not failed. */
const SHUTDOWN = "the node agent stopping";
/** How long a deploy waits for a definition this agent has not seen yet. */
const DEFINITION_WAIT_MS = 5_000;
/**
 * How long JetStream waits for an acknowledgement before redelivering a command. A deploy in
 * progress keeps its message (the consumer sends `working` every half ack wait), so this need
 * not cover `deploy.timeout`. A command lost on the way to an agent that was cut from NATS
 * (its pull expired during the outage) comes again after this long: 10 s rather than the
 * runtime's default 30 s, out of a `deploying` deadline of minutes.
 */
export const ACK_WAIT_MS = 10_000;
/**
 * How long storing a finished deploy's result rides out NATS being away (a server restarting,
 * a cluster electing a leader) before the message is left to be redelivered.
 */
const RECORD_RETRY_MS = 30_000;
/** How many aborted deployment ids are remembered for a `deploy.started` that comes late. */
const ABORTED_MEMORY = 256;

/**
 * The default executor: local for `executor: agent`, SSH for `executor: ssh` (host from the
 * node, SSH port and user from the definition's node, key and known-hosts from the agent
 * config).
 */
export function defaultExecutorFactory(config: Readonly<NodeAgentConfig>): ExecutorFactory {
  const passphraseEnv = config.ssh?.passphrase_env;
  // Steps do not inherit the key's passphrase.
  const baseEnv = { ...process.env };
  if (passphraseEnv !== undefined) delete baseEnv[passphraseEnv];
  return async (target, _plan, definition) => {
    if (definition.deploy.executor !== "ssh") return localExecutor({ baseEnv });
    // Loaded on first use: node-ssh costs an agent that only deploys locally ~14 MB.
    const { sshExecutor } = await import("./executors/ssh.ts");
    const ssh = config.ssh;
    return sshExecutor({
      host: target.node.host,
      port: target.defined?.ssh?.port ?? 22,
      user: target.defined?.ssh?.user ?? ssh?.user ?? userInfo().username,
      keyFile: ssh?.key_file,
      passphrase: passphraseEnv === undefined ? undefined : process.env[passphraseEnv],
      agentSocket: ssh?.use_agent ? process.env.SSH_AUTH_SOCK : undefined,
      knownHostsFile: ssh?.known_hosts_file ?? "~/.ssh/known_hosts",
      connectTimeoutMs: ssh?.connect_timeout ?? 10_000,
    });
  };
}

/**
 * The node agent: consumes `deploy.started` for the (service, colour, nodes) it serves and
 * deploys each of its nodes; consumes `deploy.aborted` to stop a running deploy. A result is
 * recorded per (deployment, node) before it is published, so a redelivery re-publishes it
 * and never deploys twice.
 */
export class NodeAgent {
  private readonly running = new Map<string, Running>();
  /** Results of deploys that finished here but could not be stored yet (NATS away). */
  private readonly unrecorded = new Map<string, ResultRecord>();
  private readonly aborted = new Map<string, string>();
  private readonly consumptions: Consumption[] = [];
  private readonly health: NodeHealthPoller;
  private readonly executorFor: ExecutorFactory;
  private stopping = false;

  constructor(private readonly deps: NodeAgentDeps) {
    this.executorFor = deps.executorFor ?? defaultExecutorFactory(deps.config);
    this.health = new NodeHealthPoller(
      () =>
        servedNodes(deps.config.serves, (s) => deps.definitions.get(s)).flatMap(
          ({ service, node }) => {
            const definition = deps.definitions.get(service);
            return definition === undefined ? [] : [{ node, readiness: definition.readiness }];
          },
        ),
      deps.config.heartbeat_interval,
    );
  }

  async start(): Promise<void> {
    const { bus, config } = this.deps;
    const durable = `node-agent-${config.agent_id}`;
    this.consumptions.push(
      await bus.consume({
        durable,
        filters: [filterSubject({ name: "deploy.started" })],
        expect: ["deploy.started"],
        handler: (event, ctx) => this.onStarted(event, ctx),
        concurrency: this.deps.concurrency ?? 4,
        ackWaitMs: ACK_WAIT_MS,
      }),
      await bus.consume({
        durable,
        filters: [filterSubject({ name: "deploy.aborted" })],
        expect: ["deploy.aborted"],
        handler: (event, ctx) => this.onAborted(event, ctx),
        ackWaitMs: ACK_WAIT_MS,
      }),
    );
    this.health.start();
    this.deps.logger.info(
      { serves: config.serves.map((s) => `${s.service}/${s.color}`) },
      "node agent consuming deploy.started and deploy.aborted",
    );
  }

  /** Stops consuming; a running deploy is stopped and left for redelivery. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const run of this.running.values()) run.controller.abort(SHUTDOWN);
    await Promise.all(this.consumptions.map((c) => c.stop()));
    this.consumptions.length = 0;
    await this.health.stop();
  }

  /** What the heartbeat carries: services, colour, node health and versions. */
  heartbeat(): Partial<EventDataInput<"agent.heartbeat">> {
    const serves = this.deps.config.serves;
    const services = [...new Set(serves.map((s) => s.service))];
    const colors = [...new Set(serves.map((s) => s.color))];
    return {
      services,
      ...(colors.length === 1 ? { color: colors[0] as Color } : {}),
      nodes: this.health.snapshot(),
    };
  }

  /** Deploys in progress in this process, by result key. */
  get inProgress(): string[] {
    return [...this.running.keys()];
  }

  private async onAborted(event: BgEvent<"deploy.aborted">, ctx: HandlerContext): Promise<void> {
    const deploymentId = event.deploymentid as string;
    this.aborted.set(deploymentId, event.data.by);
    if (this.aborted.size > ABORTED_MEMORY) {
      const oldest = this.aborted.keys().next().value;
      if (oldest !== undefined) this.aborted.delete(oldest);
    }
    let stopped = 0;
    for (const run of this.running.values()) {
      if (run.deploymentId !== deploymentId) continue;
      run.controller.abort(event.data.by);
      stopped++;
    }
    ctx.logger.info({ by: event.data.by, stopped }, "deploy aborted");
  }

  /**
   * The definition of a service. One applied a moment ago may not have reached this agent's
   * watch yet when the coordinator (which read it) already sent the deploy: wait briefly.
   */
  private async definitionOf(service: string): Promise<Readonly<ServiceDefinition> | undefined> {
    const deadline = Date.now() + DEFINITION_WAIT_MS;
    for (;;) {
      const definition = this.deps.definitions.get(service);
      if (definition !== undefined || Date.now() >= deadline || this.stopping) return definition;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async onStarted(event: BgEvent<"deploy.started">, ctx: HandlerContext): Promise<void> {
    const service = event.subject;
    const served = this.deps.config.serves.some(
      (s) => s.service === service && s.color === event.data.color,
    );
    const definition = served ? await this.definitionOf(service) : undefined;
    const targets = selectTargets(
      this.deps.config.serves,
      { service, color: event.data.color, nodes: event.data.nodes },
      definition,
    );
    if (targets.length === 0) {
      ctx.logger.debug({ color: event.data.color }, "no node of this deploy is served here");
      return;
    }
    // Only nodes the definition names for that colour are ever deployed: an event cannot
    // point this agent's steps at a host of its choosing.
    const foreign = definition === undefined ? [] : targets.filter((t) => t.defined === undefined);
    if (foreign.length > 0) {
      throw new BgError("BG_ERR_DEPLOY_UNKNOWN_NODE", {
        node: foreign
          .map((t) => nodeId(t.node))
          .join(", ")
          .slice(0, 200),
        service,
        color: event.data.color,
      });
    }
    await Promise.all(targets.map((target) => this.deployTarget(event, target, definition, ctx)));
  }

  private async deployTarget(
    event: BgEvent<"deploy.started">,
    target: Target,
    definition: Readonly<ServiceDefinition> | undefined,
    ctx: HandlerContext,
  ): Promise<void> {
    const service = event.subject;
    const deploymentId = event.deploymentid as string;
    const key = resultKey(service, deploymentId, target.node);
    const logger = childLogger(this.deps.logger, {
      component: "deploy",
      service,
      deploymentId,
      node: nodeId(target.node),
    });
    const running = this.running.get(key);
    if (running !== undefined) {
      // Acknowledged only with the running deploy: if its result cannot be stored, this
      // delivery fails too and the command comes back (then publishing the kept result).
      logger.info("this deploy is already running here; the repeated deploy.started waits for it");
      await running.done;
      return;
    }
    const finished = this.unrecorded.get(key);
    if (finished !== undefined) {
      logger.info(
        { outcome: finished.outcome, redelivered: ctx.redelivered },
        "already deployed, result not stored yet: storing and publishing it, running nothing",
      );
      await this.recordAndPublish(key, finished, logger);
      return;
    }
    const stored = await this.deps.results.get(key);
    if (stored !== undefined) {
      logger.info(
        { outcome: stored.outcome, redelivered: ctx.redelivered },
        "already deployed: re-publishing the recorded result, running nothing",
      );
      await this.publishAll(storedEvents(stored));
      return;
    }
    if (this.stopping)
      throw new Error("the node agent is stopping; the deploy will be redelivered");
    if (definition !== undefined) {
      // A deploy.started this late reaches an agent that crashed (or was cut off) mid-deploy
      // and came back after the coordinator gave up: the deployment has ended, run nothing.
      const expiresAt = startedExpiresAt(event, definition);
      if (Date.now() >= expiresAt) {
        logger.warn(
          {
            startedAt: event.time,
            expiredAt: new Date(expiresAt).toISOString(),
            redelivered: ctx.redelivered,
            deliveryCount: ctx.deliveryCount,
          },
          "deploy.started is past the coordinator's deadline: the deployment has ended; running nothing",
        );
        return;
      }
    }

    const controller = new AbortController();
    let settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
    const done = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    done.catch(() => undefined); // only a repeated delivery waits for it
    this.running.set(key, { deploymentId, controller, done });
    const abortedBy = this.aborted.get(deploymentId);
    if (abortedBy !== undefined) controller.abort(abortedBy);
    try {
      let result: NodeDeployResult;
      try {
        result = await this.runDeploy(event, target, definition, controller.signal, logger);
      } catch (err) {
        // A bug must not turn into a redelivery that deploys again: record it as a failure.
        logger.error({ err }, "node deploy failed unexpectedly");
        result = this.internalFailure(event, target, err);
      }
      if (controller.signal.reason === SHUTDOWN) {
        throw new Error("the node agent stopped during the deploy; it will be redelivered");
      }
      this.deps.metrics?.deploy(service, result.outcome);
      const record: ResultRecord = {
        service,
        deploymentId,
        node: nodeId(target.node),
        color: event.data.color,
        version: event.data.version.slice(0, 200),
        outcome: result.outcome,
        finishedAt: new Date().toISOString(),
        agentId: this.deps.config.agent_id,
        events: result.final,
      };
      const kept = await this.recordAndPublish(key, record, logger);
      logger.info({ outcome: kept.outcome }, "node deploy finished");
      settle?.resolve();
    } catch (err) {
      settle?.reject(err);
      throw err;
    } finally {
      this.running.delete(key);
    }
  }

  private async runDeploy(
    event: BgEvent<"deploy.started">,
    target: Target,
    definition: Readonly<ServiceDefinition> | undefined,
    signal: AbortSignal,
    logger: Logger,
  ): Promise<NodeDeployResult> {
    const service = event.subject;
    const deploymentId = event.deploymentid as string;
    const makeEvent = <N extends EventName>(name: N, data: EventDataInput<N>) =>
      createEvent(name, { service, source: this.deps.bus.source, data, deploymentId });
    const failedBeforeStart = (error: BgError): NodeDeployResult => {
      logger.warn({ code: error.code }, error.message);
      return {
        outcome: NodeOutcome.failed,
        final: [
          makeEvent("deploy.failed", {
            stage: "deploy",
            error: error.toJSON(),
            node: nodeId(target.node),
            color: event.data.color,
            version: event.data.version.slice(0, 200),
            activeColor: event.data.activeColor,
            trafficAtRisk: false,
          }),
        ],
      };
    };
    if (definition === undefined) {
      return failedBeforeStart(new BgError("BG_ERR_CONFIG_UNKNOWN_SERVICE", { service }));
    }
    let plan: DeployPlan;
    try {
      // The executor boundary checks the version again, before any command exists.
      plan = planDeploy({
        definition,
        deploymentId,
        version: event.data.version,
        color: event.data.color,
        node: target.node,
        workdirOverride: target.workdirOverride,
      });
    } catch (err) {
      if (err instanceof BgError) return failedBeforeStart(err);
      throw err;
    }
    logger.info(
      { version: plan.version, steps: plan.steps.length, executor: definition.deploy.executor },
      "node deploy started",
    );
    return deployNode({
      plan,
      definition,
      openExecutor: () => this.executorFor(target, plan, definition),
      makeEvent,
      publish: async (e) => {
        await this.deps.bus.publish(e);
      },
      signal,
      activeColor: event.data.activeColor,
      logger,
      ...(this.deps.metrics === undefined ? {} : { observe: this.deps.metrics.observer(service) }),
    });
  }

  private internalFailure(
    event: BgEvent<"deploy.started">,
    target: Target,
    err: unknown,
  ): NodeDeployResult {
    const error = new BgError("BG_ERR_AGENT_INTERNAL", {
      component: "node-agent",
      reason: (err instanceof Error ? err.message : String(err)).slice(0, 500),
    });
    return {
      outcome: NodeOutcome.failed,
      final: [
        createEvent("deploy.failed", {
          service: event.subject,
          source: this.deps.bus.source,
          deploymentId: event.deploymentid,
          data: {
            stage: "deploy",
            error: error.toJSON(),
            node: nodeId(target.node),
            color: event.data.color,
            version: event.data.version.slice(0, 200),
            activeColor: event.data.activeColor,
            trafficAtRisk: false,
          },
        }),
      ],
    };
  }

  /**
   * Stores a finished deploy's result, then publishes its events. Recorded first: if publishing
   * fails, the redelivery re-publishes this very result. Storing rides out a NATS outage; while
   * it cannot be stored, the result is kept here, so a redelivery to this process publishes it
   * instead of deploying a second time.
   */
  private async recordAndPublish(
    key: string,
    record: ResultRecord,
    logger: Logger,
  ): Promise<ResultRecord> {
    this.unrecorded.set(key, record);
    const kept = await retryTransient(() => this.deps.results.put(key, record), {
      forMs: RECORD_RETRY_MS,
      onRetry: (err, attempt, retryInMs) =>
        logger.warn({ err, attempt, retryInMs }, "result not stored yet; retrying"),
    });
    this.unrecorded.delete(key);
    await this.publishAll(storedEvents(kept));
    return kept;
  }

  private async publishAll(events: readonly BgEvent[]): Promise<void> {
    for (const event of events) await this.deps.bus.publish(event);
  }
}
