import {
  BgError,
  type BgEvent,
  type Color,
  type EventDataInput,
  filterSubject,
  type NodeAgentConfig,
  nodeId,
  type ServiceDefinition,
} from "@bluegreen/contracts";
import {
  type Bus,
  type Consumption,
  type HandlerContext,
  type Logger,
  sleep,
  TransitionRunner,
} from "@bluegreen/runtime";
import {
  decide,
  type NodeCommand,
  type NodeContext,
  type NodeDecision,
  type NodeInput,
  type NodeState,
  WARN_NOTES,
} from "./decide.ts";
import { NodeEffects } from "./effects.ts";
import {
  defaultExecutorFactory,
  defaultRemoteGroups,
  type ExecutorFactory,
  type RemoteGroups,
} from "./executors/factory.ts";
import { endLeftSteps, keptNotes, LEFT_STEP_RETRY_MS, StepLedger } from "./interrupted.ts";
import type { NodeAgentMetrics } from "./metrics.ts";
import { NodeHealthPoller } from "./node-health.ts";
import { type ResultStore, resultKey } from "./store.ts";
import { selectTargets, servedNodes } from "./targets.ts";

export interface DefinitionSource {
  get(service: string): Readonly<ServiceDefinition> | undefined;
}

export interface NodeAgentDeps {
  readonly config: Readonly<NodeAgentConfig>;
  readonly bus: Bus;
  readonly definitions: DefinitionSource;
  readonly results: ResultStore;
  readonly logger: Logger;
  readonly metrics?: NodeAgentMetrics;
  /** Defaults to local or SSH, as the definition's `deploy.executor` says. */
  readonly executorFor?: ExecutorFactory;
  /** Defaults to SSH with the config's key and known-hosts (steps a crash left on a node). */
  readonly remoteGroups?: RemoteGroups;
  /** Messages of one consumer handled at once (several services on one host). Default 4. */
  readonly concurrency?: number;
}

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
/** How many aborted deployment ids are remembered for a `deploy.started` that comes late. */
const ABORTED_MEMORY = 256;

/**
 * The node agent: consumes `deploy.started` for the (service, colour, nodes) it serves and
 * `deploy.aborted`, and feeds each (deployment, node) to the transition runner: `decide.ts`
 * says whether to run, join, re-publish or do nothing; `effects.ts` carries it out. A result
 * is stored per (deployment, node) before it is published, so a redelivery re-publishes it
 * and never deploys twice.
 */
export class NodeAgent {
  private readonly runner: TransitionRunner<NodeState, NodeInput, NodeCommand, NodeContext>;
  private readonly effects: NodeEffects;
  /** Deployments aborted here, by whom: a fact a later `deploy.started` carries to `decide`. */
  private readonly aborted = new Map<string, string>();
  private readonly consumptions: Consumption[] = [];
  private readonly health: NodeHealthPoller;
  private stopping = false;
  private readonly ledger: StepLedger | undefined;
  /** Notes of steps on unreachable nodes (path → startedAt); the timer that tries them again. */
  private readonly kept = new Map<string, string>();
  private retryLeft: NodeJS.Timeout | undefined;

  constructor(private readonly deps: NodeAgentDeps) {
    const stateDir = deps.config.state_dir;
    this.ledger =
      stateDir === undefined
        ? undefined
        : new StepLedger(stateDir, deps.logger, (path, startedAt) => {
            // A step a deploy left running on its node (connection lost): tried like the others.
            this.kept.set(path, startedAt);
            this.retryKept();
          });
    this.effects = new NodeEffects({
      ledger: this.ledger,
      bus: deps.bus,
      results: deps.results,
      logger: deps.logger,
      metrics: deps.metrics,
      executorFor: deps.executorFor ?? defaultExecutorFactory(deps.config),
      feed: async (key, input) => {
        await this.apply(key, input);
      },
    });
    this.runner = new TransitionRunner({
      store: deps.results,
      decide,
      context: () => ({ now: Date.now(), agentId: deps.config.agent_id, stopping: this.stopping }),
      carryOut: (command, _state, key) => this.effects.carryOut(key, command),
      // The runner writes nothing: a result is stored once, by the `store` command; what comes
      // before it (running, unrecorded) is held by the runner in this process only.
      shouldStore: () => false,
      onTransition: (key, _before, decision) => this.log(key, decision),
      onUnchanged: (key, _input, decision) => this.log(key, decision),
    });
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
    await this.endInterruptedSteps();
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

  /**
   * Steps a crash left running (noted in `state_dir`): each group is ended (over SSH for a
   * node) and the deployment's events say so, before anything is consumed. A note whose event
   * could not be published stays, and is handled again at the next start. A note whose node
   * cannot be reached (within the SSH connect timeout) is kept and said so; it is tried again
   * every LEFT_STEP_RETRY_MS while the agent runs (only those notes: the others in `state_dir`
   * by then are this process' own running steps), and at its next start. So is the note of a
   * step a deploy of this process left running on its node (the SSH connection lost, or its
   * kill not sent): the ledger hands it over when the deploy ends.
   */
  private async endInterruptedSteps(retry = false): Promise<void> {
    const ledger = this.ledger;
    if (ledger === undefined || this.stopping) return;
    const notes = retry ? keptNotes(ledger.left(), this.kept) : ledger.left();
    const kept = await endLeftSteps(
      {
        ledger,
        remote: this.deps.remoteGroups ?? defaultRemoteGroups(this.deps.config),
        publish: async (event) => {
          await this.deps.bus.publish(event);
        },
        source: this.deps.bus.source,
        logger: this.deps.logger,
        kept: this.kept,
      },
      notes,
    );
    if (kept > 0) this.retryKept();
  }

  /** Tries the kept notes again in LEFT_STEP_RETRY_MS (once: a try already planned stands). */
  private retryKept(): void {
    if (this.stopping || this.retryLeft !== undefined) return;
    this.retryLeft = setTimeout(() => {
      this.retryLeft = undefined;
      this.endInterruptedSteps(true).catch((err: unknown) => {
        this.deps.logger.warn({ err }, "could not record a step a crash left; trying again");
        this.retryKept();
      });
    }, LEFT_STEP_RETRY_MS);
    this.retryLeft.unref();
  }

  /** Stops consuming; a running deploy is stopped and left for redelivery. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryLeft);
    this.effects.stopAll();
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
    return this.effects.inProgress;
  }

  /**
   * Applies one input to a (deployment, node), in the key's turn; returns the deploy running
   * for it then (looked up in the turn, so its end, an input of the same key, cannot slip in
   * between). Throws while the key's result is not stored: the delivery is redelivered.
   */
  private async apply(key: string, input: NodeInput): Promise<{ running?: Promise<void> }> {
    return this.runner.within(key, async (tx) => {
      const decision = await tx.apply(input);
      if (decision.state === undefined) this.runner.forget(key);
      const phase = this.runner.peek(key)?.state.phase;
      if (phase === "unrecorded")
        throw new Error("the deploy's result is not stored yet; the delivery will come again");
      // Once stored, the store has it: a redelivery reads it back from there.
      if (phase === "recorded") this.runner.forget(key);
      const running = this.effects.running(key);
      return running === undefined ? {} : { running };
    });
  }

  private log(key: string, decision: NodeDecision): void {
    const state = decision.state;
    const of = state?.phase === "running" ? state.deploy : state?.record;
    const fields = {
      component: "deploy",
      ...(of === undefined
        ? { key }
        : { service: of.service, deploymentId: of.deploymentId, node: of.node }),
      phase: state?.phase ?? "nothing",
      commands: decision.commands.map((c) => c.kind),
    };
    if (WARN_NOTES.has(decision.note)) this.deps.logger.warn(fields, decision.note);
    else this.deps.logger.info(fields, decision.note);
  }

  private async onAborted(event: BgEvent<"deploy.aborted">, ctx: HandlerContext): Promise<void> {
    const deploymentId = event.deploymentid as string;
    const by = event.data.by;
    this.aborted.set(deploymentId, by);
    if (this.aborted.size > ABORTED_MEMORY) {
      const oldest = this.aborted.keys().next().value;
      if (oldest !== undefined) this.aborted.delete(oldest);
    }
    const keys = this.effects.runningOf(deploymentId);
    for (const key of keys) await this.apply(key, { kind: "aborted", by });
    ctx.logger.info({ by, stopped: keys.length }, "deploy aborted");
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
      await sleep(100);
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
    const deploymentId = event.deploymentid as string;
    const abortedBy = this.aborted.get(deploymentId);
    await Promise.all(
      targets.map(async (target) => {
        const key = resultKey(service, deploymentId, target.node);
        const input: NodeInput = { kind: "started", event, target, definition, abortedBy };
        // Acknowledged with the deploy it runs or joins: once its result is stored and published.
        const { running } = await this.apply(key, input);
        await running;
      }),
    );
  }
}
