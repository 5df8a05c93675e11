import {
  BgError,
  type BgEvent,
  createEvent,
  type ErrorCode,
  type ErrorParams,
  type EventDataInput,
  type EventName,
} from "@bluegreen/contracts";
import type { Command } from "./commands.ts";
import { deadlineFor } from "./deadlines.ts";
import type { DecideContext } from "./inputs.ts";
import { isTerminal, type Phase } from "./phases.ts";
import { type DeploymentState, SEEN_LIMIT } from "./state.ts";

/** What `decide` answers: the next state, what to do, and why (for the log). */
export interface Decision {
  /** The next state; undefined only when there was no deployment and none was created. */
  state: DeploymentState | undefined;
  commands: readonly Command[];
  /** Why, in a few words: logged by the shell. */
  note: string;
  /** True when the state differs from the one given (the shell writes only then). */
  changed: boolean;
  /** The input came too early (e.g. a monitor verdict before `switch.done`): retry it later. */
  defer?: boolean;
}

export function errorInfo(code: ErrorCode, params: ErrorParams = {}) {
  return new BgError(code, params).toJSON();
}

/**
 * A working copy of one transition. Handlers call `to`, `publish`, `releaseLock` in order;
 * `done` hands back the decision. The input state is never mutated.
 */
export class Draft {
  state: DeploymentState;
  readonly commands: Command[] = [];
  private changed = false;

  constructor(
    state: DeploymentState,
    readonly ctx: DecideContext,
  ) {
    this.state = state;
  }

  get nowIso(): string {
    return this.ctx.now.toISOString();
  }

  /** Changes fields of the state. */
  set(patch: Partial<DeploymentState>): this {
    this.state = { ...this.state, ...patch };
    this.changed = true;
    return this;
  }

  /** Moves to a phase: counts the time spent in the old one and arms the new deadline. */
  to(phase: Phase): this {
    const s = this.state;
    const spent = Math.max(0, this.ctx.now.getTime() - Date.parse(s.phaseSince));
    const phases = { ...s.phases, [s.phase]: (s.phases[s.phase] ?? 0) + spent };
    const deadline = deadlineFor(phase, s.plan, this.ctx.now, {
      queued: s.queued,
      monitorUntil: s.monitorUntil,
    });
    const next: DeploymentState = { ...s, phase, phases, phaseSince: this.nowIso };
    if (deadline === undefined) delete next.deadline;
    else next.deadline = deadline;
    if (isTerminal(phase)) delete next.switch;
    this.state = next;
    this.changed = true;
    return this;
  }

  /** Re-arms the current phase's deadline (the monitor told us when its window ends). */
  rearm(): this {
    const s = this.state;
    const deadline = deadlineFor(s.phase, s.plan, this.ctx.now, {
      queued: s.queued,
      monitorUntil: s.monitorUntil,
    });
    if (deadline !== undefined) this.set({ deadline });
    return this;
  }

  publish<N extends EventName>(name: N, data: EventDataInput<N>): BgEvent<N> {
    const seq = this.state.seq + 1;
    const event = createEvent(name, {
      service: this.state.service,
      source: this.ctx.source,
      deploymentId: this.state.deploymentId,
      id: `${this.state.deploymentId}.${seq}.${name}`,
      time: this.ctx.now,
      data,
    });
    this.set({ seq });
    // The closing event's data is kept, so a repeated request is answered with it again.
    const outcome = this.state.outcome;
    if (outcome !== undefined && outcome.event === name)
      this.set({ outcome: { ...outcome, data: event.data as Record<string, unknown> } });
    this.commands.push({ kind: "publish", event });
    return event;
  }

  command(command: Command): this {
    this.commands.push(command);
    return this;
  }

  /** Records an applied event id, so a redelivery is recognised. */
  seen(id: string): this {
    const seen = [...this.state.seen, id].slice(-SEEN_LIMIT);
    return this.set({ seen, updatedAt: this.nowIso });
  }

  done(note: string, extra: { defer?: boolean } = {}): Decision {
    if (this.changed && this.state.updatedAt !== this.nowIso)
      this.state = { ...this.state, updatedAt: this.nowIso };
    return {
      state: this.state,
      commands: this.commands,
      note,
      changed: this.changed,
      ...(extra.defer ? { defer: true } : {}),
    };
  }
}

/** The answer that changes nothing. */
export function unchanged(state: DeploymentState | undefined, note: string): Decision {
  return { state, commands: [], note, changed: false };
}

export function deferred(state: DeploymentState, note: string): Decision {
  return { state, commands: [], note, changed: false, defer: true };
}
