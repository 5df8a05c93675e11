import { BgError } from "@bluegreen/contracts";
import { KeyedQueue } from "./keyed-queue.ts";

/**
 * The one transition runner every agent uses:
 *
 *   load the record → pure `decide(state, input, ctx)` → compare-and-set the new state together
 *   with its pending commands → carry the commands out → feed their results back as inputs.
 *
 * Recovery after a crash is "carry out the stored pending commands". Inputs of one key (a
 * deployment, a service, a node's deploy) run one at a time, in order; keys run side by side.
 * The runner keeps the record it last read or wrote per key: the agent that owns a record is its
 * only writer, and a compare-and-set that fails (someone else wrote) drops the copy, reads again
 * and decides again.
 */

/** What a pure `decide` answers. */
export interface Decision<S, C> {
  /** The next state; undefined only when there was no record and none is created. */
  state: S | undefined;
  /** What the shell is to do, in order. Stored with the state before any is carried out. */
  commands: readonly C[];
  /** True when the state differs from the one given (the runner writes only then). */
  changed: boolean;
  /** Why, in a few words, for the log. */
  note: string;
  /** The input came too early: the runner throws DeferredError so it is redelivered later. */
  defer?: boolean;
}

/** A record as stored: the state, the commands of its last transition, its KV revision. */
export interface StoredRecord<S, C> {
  state: S;
  pending: readonly C[];
  revision: number;
}

/** The agent's `store.ts` behind the runner: the only code that reads and writes the record. */
export interface RecordStore<S, C> {
  load(key: string): Promise<StoredRecord<S, C> | undefined>;
  /**
   * Creates the record (`revision` undefined) or compare-and-sets it; returns the new revision.
   * A lost race throws BgError BG_ERR_KV_CONFLICT.
   */
  save(key: string, state: S, pending: readonly C[], revision: number | undefined): Promise<number>;
}

/** A record as the runner holds it. */
export interface Held<S, C> {
  state: S;
  pending: readonly C[];
  /** Undefined: decided but not stored (see `TransitionSpec.shouldStore`). */
  revision: number | undefined;
  /** The pending commands were carried out (the stored record may still list them). */
  pendingDone: boolean;
}

export interface TransitionSpec<S, I, C, X> {
  store: RecordStore<S, C>;
  decide(state: S | undefined, input: I, ctx: X): Decision<S, C>;
  /** What `decide` is told besides state and input (the clock, the agent's identity…). */
  context(key: string): X;
  /**
   * Carries out one command. Returns the inputs its result feeds back (a pre-flight's answer,
   * a lock's answer), applied in order once every command of the transition is carried out.
   */
  carryOut(command: C, state: S, key: string): Promise<I | readonly I[] | undefined>;
  /**
   * Whether a decision is written before its commands run. Default: when it changed the state.
   * `held` is what the runner holds for the key (undefined: no record). An agent may keep a new
   * record unstored until its first answer (the coordinator stores a request once pre-flight
   * answered), and store a held-but-unstored record on a later unchanged decision.
   */
  shouldStore?(held: Held<S, C> | undefined, decision: Decision<S, C>): boolean;
  /**
   * Which of a record's stored pending commands still need carrying out when it is read back
   * (after a crash or a change of owner). Default: all of them (commands are idempotent).
   */
  pendingToFinish?(stored: StoredRecord<S, C>): Promise<readonly C[]>;
  /** Called after every stored transition (logs, metrics, timers). */
  onTransition?(key: string, before: S | undefined, decision: Decision<S, C>): void;
  /** Called when a decision changes nothing. */
  onUnchanged?(key: string, input: I, decision: Decision<S, C>): void;
  /** Called before stored pending commands are finished after a read-back. */
  onFinishing?(key: string, stored: StoredRecord<S, C>, todo: readonly C[]): void;
  /** Called when a compare-and-set lost a race and the input is decided again. */
  onConflict?(key: string, attempt: number): void;
  /** Lost compare-and-set races before BG_ERR_KV_CONFLICT is thrown. Default 4. */
  conflictRetries?: number;
}

/** Thrown to have JetStream redeliver an input that came too early. */
export class DeferredError extends Error {
  override readonly name = "DeferredError";
}

const isConflict = (err: unknown) => err instanceof BgError && err.code === "BG_ERR_KV_CONFLICT";

/** What `within` hands its task: the runner's steps without queueing again. */
export interface Transaction<S, I, C> {
  apply(input: I): Promise<Decision<S, C>>;
  /** The record held for the key (read from the store when not held, or when `fresh`). */
  held(fresh?: boolean): Promise<Held<S, C> | undefined>;
}

export class TransitionRunner<S, I, C, X> {
  private readonly queue = new KeyedQueue();
  private readonly cache = new Map<string, Held<S, C>>();

  constructor(private readonly spec: TransitionSpec<S, I, C, X>) {}

  /** Applies one input to a key's record, after the inputs queued before it for that key. */
  apply(key: string, input: I): Promise<Decision<S, C>> {
    return this.queue.run(key, () => this.step(key, input));
  }

  /** Runs `task` in the key's turn, with the runner's steps at hand (no second queueing). */
  within<T>(key: string, task: (tx: Transaction<S, I, C>) => Promise<T>): Promise<T> {
    return this.queue.run(key, () =>
      task({ apply: (input) => this.step(key, input), held: (fresh) => this.held(key, fresh) }),
    );
  }

  /**
   * Reads a key's record from the store and carries out its pending commands (recovery after a
   * crash or a change of owner); the record as it stands then, or undefined.
   */
  recover(key: string): Promise<Held<S, C> | undefined> {
    return this.queue.run(key, async () => {
      const held = await this.held(key, true);
      if (held !== undefined && !held.pendingDone) await this.finish(key, held);
      return this.cache.get(key);
    });
  }

  /** What the runner holds for a key, without reading the store. */
  peek(key: string): Held<S, C> | undefined {
    return this.cache.get(key);
  }

  /** Drops the held copy of a key (ended, or no longer this agent's). */
  forget(key: string): void {
    this.cache.delete(key);
  }

  /** Drops every held copy (paused: another agent may write now). */
  clear(): void {
    this.cache.clear();
  }

  /** Resolves when every queued input has been handled. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private async held(key: string, fresh = false): Promise<Held<S, C> | undefined> {
    const cached = fresh ? undefined : this.cache.get(key);
    if (cached !== undefined) return cached;
    const loaded = await this.spec.store.load(key);
    if (loaded === undefined) {
      this.cache.delete(key);
      return undefined;
    }
    const held: Held<S, C> = { ...loaded, pendingDone: loaded.pending.length === 0 };
    this.cache.set(key, held);
    return held;
  }

  /** load → decide → store (CAS) → carry out → feed back. */
  private async step(key: string, input: I): Promise<Decision<S, C>> {
    const retries = this.spec.conflictRetries ?? 4;
    try {
      for (let attempt = 0; ; attempt++) {
        const held = await this.held(key, attempt > 0);
        if (held !== undefined && !held.pendingDone) await this.finish(key, held);
        const decision = this.spec.decide(held?.state, input, this.spec.context(key));
        if (decision.defer) throw new DeferredError(decision.note);
        let next = held;
        const store =
          decision.state !== undefined &&
          (this.spec.shouldStore?.(held, decision) ?? decision.changed);
        if (decision.state !== undefined && (store || decision.changed)) {
          try {
            const revision = store
              ? await this.spec.store.save(key, decision.state, decision.commands, held?.revision)
              : undefined;
            next = {
              state: decision.state,
              pending: decision.commands,
              revision,
              pendingDone: decision.commands.length === 0,
            };
            this.cache.set(key, next);
          } catch (err) {
            this.cache.delete(key);
            if (isConflict(err) && attempt < retries) {
              this.spec.onConflict?.(key, attempt);
              continue;
            }
            throw err;
          }
        }
        if (decision.changed) this.spec.onTransition?.(key, held?.state, decision);
        else this.spec.onUnchanged?.(key, input, decision);
        if (decision.commands.length > 0 && decision.state !== undefined)
          await this.carryOut(key, decision.state, decision.commands, next);
        return decision;
      }
    } catch (err) {
      // Nothing of a record that was never stored survives a failure: its redelivery starts over.
      if (this.cache.get(key)?.revision === undefined) this.cache.delete(key);
      throw err;
    }
  }

  /**
   * Carries the commands out in order, then feeds their answers back as inputs. The stored
   * record keeps listing them (clearing would cost a write per step): the held copy marks them
   * done, and a record read back from the store is finished again (`pendingToFinish`).
   */
  private async carryOut(
    key: string,
    state: S,
    commands: readonly C[],
    held: Held<S, C> | undefined,
  ): Promise<void> {
    const feedback: I[] = [];
    for (const command of commands) {
      const answer = await this.spec.carryOut(command, state, key);
      if (answer === undefined) continue;
      if (Array.isArray(answer)) feedback.push(...(answer as readonly I[]));
      else feedback.push(answer as I);
    }
    if (held !== undefined) held.pendingDone = true;
    for (const input of feedback) await this.step(key, input);
  }

  private async finish(key: string, held: Held<S, C>): Promise<void> {
    const stored: StoredRecord<S, C> | undefined =
      held.revision === undefined
        ? undefined
        : { state: held.state, pending: held.pending, revision: held.revision };
    const todo =
      stored === undefined || this.spec.pendingToFinish === undefined
        ? held.pending
        : await this.spec.pendingToFinish(stored);
    if (stored !== undefined) this.spec.onFinishing?.(key, stored, todo);
    await this.carryOut(key, held.state, todo, held);
  }
}
