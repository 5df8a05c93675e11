import { type Color, nodeId } from "@bluegreen/contracts";
import {
  childLogger,
  DeferredError,
  DUPLICATE_WINDOW_MS,
  type Logger,
  type Transaction,
  TransitionRunner,
} from "@bluegreen/runtime";
import {
  type Command,
  type ConsumedEvent,
  type DecideContext,
  type Decision,
  type DeploymentState,
  decide,
  deploymentOf,
  type Input,
  isTerminal,
  NODE_AGENT_SOURCE,
  nodeOfEvent,
  notServing,
  type Phase,
  rollbackTarget,
  senderVerdict,
  UNKNOWN_GRACE_MS,
  unknownDeployment,
} from "./decide.ts";
import { Effects, type EffectsDeps, replayOf } from "./effects.ts";
import { type DeploymentStore, shouldStore } from "./store.ts";
import type { DeadlineTimers } from "./timers.ts";

/** How soon a deadline whose handling failed (KV or NATS down) is tried again. */
const DEADLINE_RETRY_MS = 2_000;
/** On start-up, deadlines already past wait this long, so the backlog of events goes first. */
export const RECOVERY_GRACE_MS = 5_000;

/** What the coordinator works with: `effects.ts`'s world, the store, timers, a logger. */
export interface CoordinatorDeps extends Omit<EffectsDeps, "clock" | "phaseOf" | "released"> {
  store: DeploymentStore;
  timers: DeadlineTimers;
  logger: Logger;
  /** CloudEvents `source` of what the coordinator publishes (`coordinator/<agentId>`). */
  source: string;
  clock?: () => Date;
}

/** A deployment in flight, as this coordinator last stored it. */
export interface Tracked {
  service: string;
  deploymentId: string;
  phase: Phase;
  queued: boolean;
  requestedAt: string;
}

/** The runner's key of a deployment: its KV key `<service>.<deploymentId>`. */
const keyOf = (service: string, id: string) => `${service}.${id}`;
/** Service names have no dot (`^[a-z][a-z0-9-]{0,62}$`): the first one ends it. */
const partsOf = (key: string) => {
  const dot = key.indexOf(".");
  return { service: key.slice(0, dot), deploymentId: key.slice(dot + 1) };
};

/**
 * Feeds the deployments' inputs (consumed events, deadlines, recovery) to the transition
 * runner: load → `decide` → store the state with its commands as the record's outbox
 * (compare-and-set) → carry them out (`effects.ts`) → feed pre-flight and lock answers back.
 * One deployment's inputs run one at a time; different deployments run side by side. It keeps
 * the deployments in flight (their deadlines, the locks to renew, a queued request's turn).
 */
export class Coordinator {
  private readonly runner: TransitionRunner<DeploymentState, Input, Command, DecideContext>;
  private readonly effects: Effects;
  /** Deployments in flight, as this coordinator last stored them. */
  private readonly tracked = new Map<string, Tracked>();
  private readonly clock: () => Date;
  private active = true;
  private readonly loggers = new Map<string, Logger>();

  constructor(private readonly deps: CoordinatorDeps) {
    const clock = deps.clock ?? (() => new Date());
    this.clock = clock;
    this.effects = new Effects({
      ...deps,
      clock,
      phaseOf: (service, id) => this.tracked.get(keyOf(service, id))?.phase,
      released: (service) => this.kickQueue(service),
    });
    this.runner = new TransitionRunner({
      store: deps.store,
      decide,
      context: () => ({ now: clock(), source: deps.source }),
      carryOut: (command, state) => this.effects.carryOut(command, state),
      shouldStore,
      pendingToFinish: (stored) => this.effects.pendingToFinish(stored),
      onTransition: (key, before, decision) => this.transitioned(key, before, decision),
      onUnchanged: (key, input, decision) => {
        // An answer without a change (a repeated request) is logged like a transition.
        if (decision.commands.length > 0) this.log(key).info({ input: input.kind }, decision.note);
        else this.log(key).debug({ input: input.kind, note: decision.note }, "no change");
      },
      onFinishing: (key, stored) => {
        const { replay, ageMs } = replayOf(stored.state, clock());
        if (replay !== "none")
          this.log(key).info(
            { commands: stored.pending.map((c) => c.kind), ageMs },
            "finishing the commands of the last transition",
          );
      },
      onConflict: (key, attempt) =>
        this.log(key).warn({ attempt }, "deployment changed concurrently; deciding again"),
    });
  }

  /** Stops acting (deposed or shutting down); running inputs finish. */
  async pause(): Promise<void> {
    this.active = false;
    this.deps.timers.clear();
    await this.runner.idle();
    this.tracked.clear();
    this.runner.clear();
    this.loggers.clear();
    this.deps.metrics.inFlight.set(0);
  }

  resume(): void {
    this.active = true;
  }

  inFlight(): Tracked[] {
    return [...this.tracked.values()];
  }

  // ---- inputs -------------------------------------------------------------------------------

  /**
   * A consumed event: find its deployment and apply it. `ctx.logger` is the event's logger,
   * built on first use (most events log nothing of their own).
   */
  async onEvent(
    event: ConsumedEvent,
    ctx: { readonly logger: Logger; readonly streamSequence?: number },
  ): Promise<void> {
    if (!this.active) throw new DeferredError("not leading");
    if (await this.refusedSender(event, ctx)) return;
    const service = event.subject;
    let id = deploymentOf(event);
    if (id === undefined && event.type === "bluegreen.deploy.rollback_requested")
      id = await this.rollbackTarget(service);
    if (id === undefined) return this.unknown(event, undefined, ctx);
    const deploymentId = id;
    await this.runner.within(keyOf(service, deploymentId), async (tx) => {
      const decision = await tx.apply({
        kind: "event",
        event,
        ...(ctx.streamSequence === undefined ? {} : { seq: ctx.streamSequence }),
      });
      if (decision.state === undefined) await this.unknown(event, deploymentId, ctx);
    });
  }

  /** A phase deadline came due. */
  onDeadline(service: string, deploymentId: string, phase: Phase, at: string): void {
    if (!this.active) return;
    this.runner
      .apply(keyOf(service, deploymentId), { kind: "deadline", phase, at })
      .catch((err: unknown) => {
        // The timer is spent: try again shortly, or the deployment would wait forever with
        // its lock renewed (decide ignores a deadline of a phase that has already passed).
        this.log(keyOf(service, deploymentId)).error(
          { err, phase, retryInMs: DEADLINE_RETRY_MS },
          "deadline handling failed; retrying",
        );
        setTimeout(
          () => this.onDeadline(service, deploymentId, phase, at),
          DEADLINE_RETRY_MS,
        ).unref();
      });
  }

  /**
   * Picks up a deployment found in KV at start-up: finishes its outbox, re-arms its deadline
   * (one already past waits RECOVERY_GRACE_MS, so queued events go first), retries pre-flight.
   */
  async recover(service: string, deploymentId: string): Promise<void> {
    const key = keyOf(service, deploymentId);
    await this.runner.recover(key);
    await this.runner.within(key, async (tx) => {
      const held = await tx.held();
      if (held === undefined) return;
      this.track(held.state, this.clock().getTime() + RECOVERY_GRACE_MS);
      if (held.state.phase === "requested") await this.preflight(tx, held.state);
    });
  }

  /** Tries a queued request of `service` again (after a lock was released). */
  private kickQueue(service: string): void {
    const next = [...this.tracked.values()]
      .filter((t) => t.service === service && t.phase === "requested" && t.queued)
      .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt))[0];
    if (next === undefined) return;
    const key = keyOf(service, next.deploymentId);
    this.runner
      .within(key, async (tx) => {
        const held = await tx.held();
        if (held?.state.phase === "requested") await this.preflight(tx, held.state);
      })
      .catch((err: unknown) => this.log(key).error({ err }, "queued request failed"));
  }

  /** Pre-flight for a request that waits for it, answered in the deployment's turn. */
  private async preflight(
    tx: Transaction<DeploymentState, Input, Command>,
    state: DeploymentState,
  ): Promise<void> {
    await tx.apply({ kind: "preflight", outcome: await this.effects.preflight(state) });
  }

  /**
   * A node event from a node agent that does not serve the node: answered with a coded
   * `agent.rejected`, the deployment untouched. An agent with no heartbeat yet (just started)
   * is given UNKNOWN_GRACE_MS from the event's time before it is refused.
   */
  private async refusedSender(
    event: ConsumedEvent,
    ctx: { readonly logger: Logger },
  ): Promise<boolean> {
    const about = nodeOfEvent(event);
    if (about === undefined || !event.source.startsWith(NODE_AGENT_SOURCE)) return false;
    const { facts, requireHeartbeats } = this.deps;
    const definition = await facts.definition(event.subject);
    const nodesOf = (color: Color) => definition?.nodes[color].map((n) => nodeId(n));
    const check = async (fresh: boolean) =>
      senderVerdict(event, {
        nodesOf,
        agents: requireHeartbeats ? await facts.agents(fresh) : undefined,
      });
    let verdict = await check(false);
    if (!verdict.ok && verdict.unknownAgent) verdict = await check(true);
    if (verdict.ok) return false;
    const age = this.clock().getTime() - Date.parse(event.time);
    if (verdict.unknownAgent && age < UNKNOWN_GRACE_MS) throw new DeferredError(verdict.reason);
    ctx.logger.warn(
      { source: event.source, node: about.node, color: about.color, reason: verdict.reason },
      "node event from an agent that does not serve the node: refused",
    );
    const context = { now: this.clock(), source: this.deps.source };
    await this.deps.publish(notServing(event, about, verdict.reason, context));
    return true;
  }

  /** The deployment a rollback without an id is for (those stored read only if need be). */
  private async rollbackTarget(service: string): Promise<string | undefined> {
    const inFlight = this.inFlight().filter((t) => t.service === service);
    return (
      rollbackTarget(inFlight) ??
      rollbackTarget(
        inFlight,
        (await this.deps.store.list(service)).map((l) => l.state),
      )
    );
  }

  /** An event for a deployment nobody knows: ignored, deferred, or refused. */
  private async unknown(
    event: ConsumedEvent,
    deploymentId: string | undefined,
    ctx: { readonly logger: Logger },
  ): Promise<void> {
    const answer = unknownDeployment(event, deploymentId, {
      now: this.clock(),
      source: this.deps.source,
    });
    if (answer.kind === "defer") throw new DeferredError(answer.note);
    if (answer.kind === "refuse") await this.deps.publish(answer.event);
    else if (deploymentId === undefined) ctx.logger.debug(`${answer.note}; nothing to do`);
  }

  // ---- bookkeeping --------------------------------------------------------------------------

  /** After a stored transition: log it, count it, track the deployment and its deadline. */
  private transitioned(key: string, before: DeploymentState | undefined, decision: Decision): void {
    const after = decision.state;
    if (after === undefined) return;
    this.report(key, before, after, decision.note);
    this.track(after);
    // A deployment that ended stays a while (late events, echoes of its own), then goes.
    const held = this.runner.peek(key);
    if (isTerminal(after.phase) && held !== undefined)
      setTimeout(() => {
        if (this.runner.peek(key) === held) this.runner.forget(key);
      }, DUPLICATE_WINDOW_MS).unref();
  }

  private track(state: DeploymentState, notBefore = 0): void {
    const key = keyOf(state.service, state.deploymentId);
    if (isTerminal(state.phase)) {
      this.tracked.delete(key);
      this.loggers.delete(key);
      this.deps.timers.disarm(key);
    } else {
      this.tracked.set(key, {
        service: state.service,
        deploymentId: state.deploymentId,
        phase: state.phase,
        queued: state.queued,
        requestedAt: state.requestedAt,
      });
      const deadline = state.deadline;
      if (deadline === undefined) this.deps.timers.disarm(key);
      else
        this.deps.timers.arm(
          key,
          deadline.at,
          () => this.onDeadline(state.service, state.deploymentId, deadline.phase, deadline.at),
          notBefore,
        );
    }
    this.deps.metrics.inFlight.set(this.tracked.size);
  }

  private report(
    key: string,
    before: DeploymentState | undefined,
    after: DeploymentState,
    note: string,
  ): void {
    const logger = this.log(key);
    const from = before?.phase ?? "(new)";
    if (from === after.phase) {
      logger.info({ phase: after.phase }, note);
      return;
    }
    const atRisk = after.outcome?.trafficAtRisk === true;
    const log = atRisk ? logger.error.bind(logger) : logger.info.bind(logger);
    log({ from, to: after.phase, ...(atRisk ? { trafficAtRisk: true } : {}) }, note);
    if (isTerminal(after.phase) && (before === undefined || !isTerminal(before.phase))) {
      this.deps.metrics.deployments.inc({ outcome: after.phase });
      for (const [phase, ms] of Object.entries(after.phases))
        this.deps.metrics.phaseDuration.observe({ phase }, ms / 1000);
    }
  }

  private log(key: string): Logger {
    let logger = this.loggers.get(key);
    if (logger === undefined) {
      logger = childLogger(this.deps.logger, { component: "engine", ...partsOf(key) });
      if (this.loggers.size > 10_000) this.loggers.clear();
      this.loggers.set(key, logger);
    }
    return logger;
  }
}
