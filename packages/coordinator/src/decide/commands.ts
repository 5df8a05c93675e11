import type { BgEvent } from "@bluegreen/contracts";

/**
 * What `decide` asks the shell to do. The shell persists the new state (with these commands
 * as its outbox) before it carries them out, so a crash in between repeats them on restart;
 * published events have deterministic ids, so the stream drops a repeat.
 */
export type Command =
  /** Publish an event (built and validated by decide, id and time fixed). */
  /** `replay`: the closing event again, answering a repeated request (not counted twice). */
  | { kind: "publish"; event: BgEvent; replay?: boolean }
  /** Run pre-flight (definition, active colour, heartbeats, lock) and feed back a `preflight` input. */
  | { kind: "preflight" }
  /** Take the service lock again (rollback after success) and feed back a `lock` input. */
  | { kind: "acquireLock" }
  /** Release the service lock if this deployment still holds it. */
  | { kind: "releaseLock" };

export type CommandKind = Command["kind"];

export function publishedEvents(commands: readonly Command[]): BgEvent[] {
  return commands.flatMap((c) => (c.kind === "publish" ? [c.event] : []));
}
