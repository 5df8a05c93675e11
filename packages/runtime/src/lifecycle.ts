import { BgError } from "@bluegreen/contracts";
import type { Logger } from "./logger.ts";

export const LifecycleState = {
  created: "created",
  starting: "starting",
  running: "running",
  stopping: "stopping",
  stopped: "stopped",
  failed: "failed",
} as const;
export type LifecycleState = (typeof LifecycleState)[keyof typeof LifecycleState];

/** The moves an agent's lifecycle may make; anything else is a bug in the caller. */
const NEXT: Readonly<Record<LifecycleState, readonly LifecycleState[]>> = {
  created: ["starting", "stopping", "failed"],
  starting: ["running", "stopping", "failed"],
  running: ["stopping", "failed"],
  stopping: ["stopped", "failed"],
  stopped: [],
  failed: ["stopping", "stopped"],
};

export function canMove(from: LifecycleState, to: LifecycleState): boolean {
  return NEXT[from].includes(to);
}

export type TransitionListener = (
  from: LifecycleState,
  to: LifecycleState,
  reason?: string,
) => void;

/** An agent's lifecycle: one state, one setter that logs each transition. */
export class Lifecycle {
  private current: LifecycleState = "created";
  private readonly listeners: TransitionListener[] = [];

  constructor(
    readonly component: string,
    private readonly logger?: Logger,
  ) {}

  get state(): LifecycleState {
    return this.current;
  }

  /** Moves to `next`; an illegal move throws BG_ERR_LIFECYCLE_STATE naming the current state. */
  set(next: LifecycleState, reason?: string): void {
    const from = this.current;
    if (from === next) return;
    if (!canMove(from, next)) this.fail(`move to ${next}`);
    this.current = next;
    const fields = {
      component: this.component,
      from,
      to: next,
      ...(reason === undefined ? {} : { reason }),
    };
    if (next === "failed") this.logger?.error(fields, "lifecycle transition");
    else this.logger?.info(fields, "lifecycle transition");
    for (const listener of this.listeners) listener(from, next, reason);
  }

  /** Throws BG_ERR_LIFECYCLE_STATE unless the state is one of `expected`. */
  assertState(expected: readonly LifecycleState[], action: string): void {
    if (!expected.includes(this.current)) this.fail(action);
  }

  is(...states: LifecycleState[]): boolean {
    return states.includes(this.current);
  }

  onTransition(listener: TransitionListener): void {
    this.listeners.push(listener);
  }

  private fail(action: string): never {
    throw new BgError("BG_ERR_LIFECYCLE_STATE", {
      component: this.component,
      action,
      state: this.current,
    });
  }
}
