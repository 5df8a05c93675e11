import { BgError, type BgEvent } from "@bluegreen/contracts";
import { childLogger, DUPLICATE_WINDOW_MS, KeyedQueue, type Logger } from "@bluegreen/runtime";
import type { Command } from "./core/commands.ts";
import { type Decision, decide } from "./core/decide.ts";
import { deploymentIdOf } from "./core/deployment-id.ts";
import type { ConsumedEvent, Input } from "./core/inputs.ts";
import { isTerminal, type Phase } from "./core/phases.ts";
import type { DeploymentState } from "./core/state.ts";
import type { FactReader } from "./facts.ts";
import { type GatherDeps, lockOutcome, notFound, preflightOutcome } from "./gather.ts";

import type { Leases } from "./lock.ts";
import type { CoordinatorMetrics } from "./metrics.ts";
import type { DeploymentStore, Loaded } from "./store.ts";

/** A deployment as this coordinator knows it: the record, its revision, its outbox. */
interface Entry extends Omit<Loaded, "revision"> {
  /** Undefined: not stored yet (a new request waiting for its pre-flight answer). */
  revision: number | undefined;
  /** The outbox was carried out (the stored record still lists it). */
  outboxDone: boolean;
}

import type { DeadlineTimers } from "./timers.ts";

/** How soon a deadline whose handling failed (KV or NATS down) is tried again. */
const DEADLINE_RETRY_MS = 2_000;

/**
 * The thin shell around `decide`: load the deployment, decide, store the new state with its
 * commands (compare-and-set), carry the commands out, clear them. One deployment's inputs run
 * one at a time; different deployments run side by side.
 */

export interface EngineDeps {
  store: DeploymentStore;
  locks: Leases;
  publish: (event: BgEvent) => Promise<unknown>;
  /** Whether the stream holds this event already (the last message on its subject). */
  wasPublished: (event: BgEvent) => Promise<boolean>;
  facts: FactReader;
  timers: DeadlineTimers;
  metrics: CoordinatorMetrics;
  logger: Logger;
  source: string;
  requireHeartbeats: boolean;
  heartbeatMaxAgeMs: number;
  clock?: () => Date;
}

/** Thrown to have JetStream redeliver an input that came too early. */
export class DeferredError extends Error {
  override readonly name = "DeferredError";
}

/** How long an operator request for an unknown deployment is retried before it is refused. */
const UNKNOWN_GRACE_MS = 10_000;
/** On start-up, deadlines already past wait this long, so the backlog of events goes first. */
export const RECOVERY_GRACE_MS = 5_000;

interface Tracked {
  service: string;
  deploymentId: string;
  phase: Phase;
  queued: boolean;
  requestedAt: string;
}

const keyOf = (service: string, id: string) => `${service}.${id}`;
const isConflict = (err: unknown) => err instanceof BgError && err.code === "BG_ERR_KV_CONFLICT";
const OPERATOR_REQUESTS: readonly string[] = [
  "bluegreen.deploy.promote_requested",
  "bluegreen.deploy.abort_requested",
  "bluegreen.deploy.rollback_requested",
];

export class Engine {
  private readonly queue = new KeyedQueue();
  /** Deployments in flight, as this coordinator last stored them. */
  private readonly tracked = new Map<string, Tracked>();
  private readonly clock: () => Date;
  private active = true;
  /**
   * The last record this coordinator read or wrote per deployment in flight. The leader is the
   * only writer; if someone else wrote meanwhile, the compare-and-set fails and we read again.
   */
  private readonly cache = new Map<string, Entry>();
  private readonly loggers = new Map<string, Logger>();

  constructor(private readonly deps: EngineDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Stops acting (deposed or shutting down); running inputs finish. */
  async pause(): Promise<void> {
    this.active = false;
    this.deps.timers.clear();
    await this.queue.idle();
    this.tracked.clear();
    this.cache.clear();
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
  async onEvent(event: ConsumedEvent, ctx: { readonly logger: Logger }): Promise<void> {
    if (!this.active) throw new DeferredError("not leading");
    const service = event.subject;
    let deploymentId: string | undefined =
      event.type === "bluegreen.deploy.requested" ? deploymentIdOf(event) : event.deploymentid;
    if (deploymentId === undefined && event.type === "bluegreen.deploy.rollback_requested")
      deploymentId = await this.latestDeployment(service);
    if (deploymentId === undefined) {
      if (event.type === "bluegreen.deploy.rollback_requested")
        return this.refuseUnknown(event, "(latest)");
      ctx.logger.debug("event without a deployment id (a manual switch?); nothing to do");
      return;
    }
    const id = deploymentId;
    await this.queue.run(keyOf(service, id), async () => {
      let decision: Decision | undefined;
      try {
        decision = await this.apply(service, id, { kind: "event", event });
      } catch (err) {
        // Nothing of a request that was never stored may survive: its redelivery starts over.
        if (this.cache.get(keyOf(service, id))?.revision === undefined)
          this.cache.delete(keyOf(service, id));
        throw err;
      }
      if (decision?.state === undefined && OPERATOR_REQUESTS.includes(event.type)) {
        if (this.clock().getTime() - Date.parse(event.time) < UNKNOWN_GRACE_MS)
          throw new DeferredError(`deployment ${id} not known yet`);
        await this.refuseUnknown(event, id);
      }
    });
  }

  /** A phase deadline came due. */
  onDeadline(service: string, deploymentId: string, phase: Phase, at: string): void {
    if (!this.active) return;
    this.queue
      .run(keyOf(service, deploymentId), () =>
        this.apply(service, deploymentId, { kind: "deadline", phase, at }),
      )
      .catch((err: unknown) => {
        // The timer is spent: try again shortly, or the deployment would wait forever with
        // its lock renewed (decide ignores a deadline of a phase that has already passed).
        this.log(service, deploymentId).error(
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
  recover(service: string, deploymentId: string): Promise<void> {
    return this.queue.run(keyOf(service, deploymentId), async () => {
      const entry = await this.entry(service, deploymentId, true);
      if (entry === undefined) return;
      if (!entry.outboxDone) await this.finishOutbox(entry);
      const state = this.cache.get(keyOf(service, deploymentId))?.state ?? entry.state;
      this.track(state, this.clock().getTime() + RECOVERY_GRACE_MS);
      if (state.phase === "requested") await this.runPreflight(state);
    });
  }

  /** Tries a queued request of `service` again (after a lock was released). */
  private kickQueue(service: string): void {
    const next = [...this.tracked.values()]
      .filter((t) => t.service === service && t.phase === "requested" && t.queued)
      .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt))[0];
    if (next === undefined) return;
    this.queue
      .run(keyOf(service, next.deploymentId), async () => {
        const entry = await this.entry(service, next.deploymentId);
        if (entry?.state.phase === "requested") await this.runPreflight(entry.state);
      })
      .catch((err: unknown) =>
        this.log(service, next.deploymentId).error({ err }, "queued request failed"),
      );
  }

  // ---- the loop -----------------------------------------------------------------------------

  private async entry(service: string, id: string, fresh = false): Promise<Entry | undefined> {
    const key = keyOf(service, id);
    const cached = fresh ? undefined : this.cache.get(key);
    if (cached !== undefined) return cached;
    const loaded = await this.deps.store.get(service, id);
    if (loaded === undefined) {
      this.cache.delete(key);
      return undefined;
    }
    const entry: Entry = { ...loaded, outboxDone: loaded.outbox.length === 0 };
    this.cache.set(key, entry);
    return entry;
  }

  private remember(entry: Entry): void {
    const key = keyOf(entry.state.service, entry.state.deploymentId);
    this.cache.set(key, entry);
    // A deployment that ended stays a while (late events, echoes of its own), then goes.
    if (isTerminal(entry.state.phase))
      setTimeout(() => {
        if (this.cache.get(key) === entry) this.cache.delete(key);
      }, DUPLICATE_WINDOW_MS).unref();
  }

  /**
   * load → decide → store (CAS, the commands as the record's outbox) → carry out. Runs inside
   * the deployment's queue. A new request is only stored once pre-flight answered (its
   * message is acknowledged after that, so a crash before it simply redelivers the request).
   */
  private async apply(service: string, id: string, input: Input): Promise<Decision | undefined> {
    const key = keyOf(service, id);
    for (let attempt = 0; ; attempt++) {
      const entry = await this.entry(service, id, attempt > 0);
      if (entry !== undefined && !entry.outboxDone) await this.finishOutbox(entry);
      const before = entry?.state;
      const decision = decide(before, input, { now: this.clock(), source: this.deps.source });
      const logger = this.log(service, id);
      if (decision.defer) throw new DeferredError(decision.note);
      const after = decision.state;
      let stored = entry;
      if (decision.changed && after !== undefined) {
        const onlyPreflight =
          entry === undefined &&
          decision.commands.length > 0 &&
          decision.commands.every((c) => c.kind === "preflight");
        try {
          const revision = onlyPreflight
            ? undefined
            : await this.deps.store.put(after, decision.commands, entry?.revision);
          stored = {
            state: after,
            outbox: [...decision.commands],
            revision,
            outboxDone: decision.commands.length === 0,
          };
          this.remember(stored);
        } catch (err) {
          this.cache.delete(key);
          if (isConflict(err) && attempt < 4) {
            logger.warn({ attempt }, "deployment changed concurrently; deciding again");
            continue;
          }
          throw err;
        }
        this.report(before, after, decision, logger);
        this.track(after);
      } else {
        logger.debug({ input: input.kind, note: decision.note }, "no change");
        if (entry !== undefined && entry.revision === undefined) {
          // A new request that pre-flight left waiting (queued): store it now.
          const revision = await this.deps.store.put(entry.state, [], undefined);
          stored = { ...entry, outbox: [], revision, outboxDone: true };
          this.remember(stored);
        }
      }
      if (decision.commands.length > 0 && after !== undefined) {
        await this.carryOut(after, decision.commands, stored);
      }
      return decision;
    }
  }

  /**
   * Carries out commands in order, then feeds back the answers of pre-flight and lock
   * requests as new inputs. The stored outbox is not cleared (that would cost a write per
   * step): the cache marks it done, and a record read back from KV is checked (finishOutbox).
   */
  private async carryOut(
    state: DeploymentState,
    commands: readonly Command[],
    entry: Entry | undefined,
  ): Promise<void> {
    const followUps: Command[] = [];
    for (const command of commands) {
      if (command.kind === "preflight" || command.kind === "acquireLock") followUps.push(command);
      else await this.direct(state, command);
    }
    if (entry !== undefined) entry.outboxDone = true;
    for (const command of followUps) {
      if (command.kind === "preflight") await this.runPreflight(state);
      else await this.relock(state);
    }
  }

  private async direct(state: DeploymentState, command: Command): Promise<void> {
    if (command.kind === "publish") {
      await this.deps.publish(command.event);
      if (command.event.type === "bluegreen.deploy.rolled_back") {
        const ms = (command.event.data as { timeToRollbackMs: number }).timeToRollbackMs;
        this.deps.metrics.timeToRollback.observe(ms / 1000);
      }
    } else if (command.kind === "releaseLock") {
      await this.deps.locks.release(state.service, state.deploymentId);
      this.kickQueue(state.service);
    }
  }

  /**
   * An outbox read back from KV (after a crash or a change of leader) may or may not have been
   * carried out. Written within the stream's duplicate window, it is simply carried out again
   * (the stream drops events it already has). Older, each event is looked up in the stream
   * first; a deployment that already ended is not touched any more.
   */
  private async finishOutbox(entry: Entry): Promise<void> {
    const { state } = entry;
    const age = this.clock().getTime() - Date.parse(state.updatedAt);
    const recent = age < DUPLICATE_WINDOW_MS - 10_000;
    const logger = this.log(state.service, state.deploymentId);
    if (!recent && isTerminal(state.phase)) {
      entry.outboxDone = true;
      return;
    }
    logger.info(
      { commands: entry.outbox.map((c) => c.kind), ageMs: age },
      "finishing the commands of the last transition",
    );
    const todo: Command[] = [];
    for (const command of entry.outbox) {
      if (command.kind === "publish" && !recent && (await this.deps.wasPublished(command.event)))
        continue;
      todo.push(command);
    }
    await this.carryOut(state, todo, entry);
  }

  private async runPreflight(state: DeploymentState): Promise<void> {
    const outcome = await preflightOutcome(state, this.gatherDeps());
    await this.apply(state.service, state.deploymentId, { kind: "preflight", outcome });
  }

  private async relock(state: DeploymentState): Promise<void> {
    const outcome = await lockOutcome(state, this.gatherDeps());
    await this.apply(state.service, state.deploymentId, { kind: "lock", outcome });
  }

  private gatherDeps(): GatherDeps {
    return {
      facts: this.deps.facts,
      locks: this.deps.locks,
      requireHeartbeats: this.deps.requireHeartbeats,
      heartbeatMaxAgeMs: this.deps.heartbeatMaxAgeMs,
      now: this.clock(),
      phaseOf: (service, id) => this.tracked.get(keyOf(service, id))?.phase,
    };
  }

  // ---- bookkeeping --------------------------------------------------------------------------

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
    before: DeploymentState | undefined,
    after: DeploymentState,
    decision: Decision,
    logger: Logger,
  ): void {
    const from = before?.phase ?? "(new)";
    if (from === after.phase) {
      logger.info({ phase: after.phase }, decision.note);
      return;
    }
    const atRisk = after.outcome?.trafficAtRisk === true;
    const log = atRisk ? logger.error.bind(logger) : logger.info.bind(logger);
    log({ from, to: after.phase, ...(atRisk ? { trafficAtRisk: true } : {}) }, decision.note);
    if (isTerminal(after.phase) && (before === undefined || !isTerminal(before.phase))) {
      this.deps.metrics.deployments.inc({ outcome: after.phase });
      for (const [phase, ms] of Object.entries(after.phases))
        this.deps.metrics.phaseDuration.observe({ phase }, ms / 1000);
    }
  }

  private log(service: string, deploymentId: string): Logger {
    const key = keyOf(service, deploymentId);
    let logger = this.loggers.get(key);
    if (logger === undefined) {
      logger = childLogger(this.deps.logger, { component: "engine", service, deploymentId });
      if (this.loggers.size > 10_000) this.loggers.clear();
      this.loggers.set(key, logger);
    }
    return logger;
  }

  /** The newest deployment of a service (in flight first, else from KV). */
  private async latestDeployment(service: string): Promise<string | undefined> {
    const newest = (list: { requestedAt: string; deploymentId: string; phase: string }[]) =>
      list
        .filter((d) => d.phase !== "rejected")
        .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt))[0]?.deploymentId;
    const inFlight = newest(this.inFlight().filter((t) => t.service === service));
    if (inFlight !== undefined) return inFlight;
    const stored = await this.deps.store.list(service);
    return newest(stored.map((l) => l.state));
  }

  private async refuseUnknown(event: ConsumedEvent, id: string): Promise<void> {
    await this.deps.publish(notFound(event, id, this.deps.source));
  }
}
