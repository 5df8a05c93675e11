import { type BgEvent, type Color, nodeId, type ServiceDefinition } from "@bluegreen/contracts";
import type { Decision } from "@bluegreen/runtime";
import type { NodeDeployResult, NodeOutcome } from "./deploy-node.ts";
import { startedExpiresAt } from "./expiry.ts";
import type { Target } from "./targets.ts";

/**
 * "Should I run this deploy?" for one (deployment, node), as a pure function:
 * `decide(state, input, ctx)` → the next state and the commands the shell carries out
 * (`effects.ts`). No I/O: the table in `decide.table.test.ts` runs it without NATS.
 *
 * The state of a (deployment, node), keyed by `resultKey(service, deploymentId, node)`:
 *   nothing     no deploy here yet (or one cut by the agent's own stop)
 *   running     the deploy runs in this process
 *   unrecorded  it finished here, its result is not stored yet (NATS away): never run again
 *   recorded    its result is stored in KV (`bluegreen_results`): re-published, never run again
 * Only `recorded` is in KV; the others live in this process (a crash loses a running deploy,
 * whose `deploy.started` is then redelivered and decided again).
 */

/** What a finished deploy leaves per (deployment, node); stored by `store.ts`. */
export interface ResultRecord {
  service: string;
  deploymentId: string;
  node: string;
  color: string;
  version: string;
  outcome: NodeOutcome;
  finishedAt: string;
  agentId: string;
  /** The events that state the result, re-published as they are (same ids). */
  events: unknown[];
}

/** Which deploy: the identity its result record carries. */
export interface NodeDeployOf {
  readonly service: string;
  readonly deploymentId: string;
  readonly node: string;
  readonly color: Color;
  readonly version: string;
}

export type NodeState =
  | { readonly phase: "running"; readonly deploy: NodeDeployOf; readonly abortedBy?: string }
  | { readonly phase: "unrecorded"; readonly record: ResultRecord }
  | { readonly phase: "recorded"; readonly record: ResultRecord };

export type Phase = NodeState["phase"];

export type NodeInput =
  | {
      readonly kind: "started";
      readonly event: BgEvent<"deploy.started">;
      readonly target: Target;
      readonly definition: Readonly<ServiceDefinition> | undefined;
      /** Who aborted this deployment before this delivery came, if anyone did. */
      readonly abortedBy: string | undefined;
    }
  | { readonly kind: "aborted"; readonly by: string }
  | { readonly kind: "finished"; readonly deploy: NodeDeployOf; readonly result: NodeDeployResult }
  /** The deploy was cut by this agent stopping: it is redelivered, nothing is kept. */
  | { readonly kind: "stopped" }
  /** The `store` command's answer: the record that counts (another process' if it was first). */
  | { readonly kind: "stored"; readonly record: ResultRecord }
  | { readonly kind: "storeFailed"; readonly reason: string };

export type NodeCommand =
  /** Run the deploy (plan, steps, readiness, smoke checks); its end comes back as an input. */
  | {
      readonly kind: "run";
      readonly deploy: NodeDeployOf;
      readonly event: BgEvent<"deploy.started">;
      readonly target: Target;
      readonly definition: Readonly<ServiceDefinition> | undefined;
      /** Aborted before it started: it runs with its abort already signalled (nothing steps). */
      readonly abortedBy: string | undefined;
    }
  /** Stop the running deploy (its whole process tree); it ends as `aborted`. */
  | { readonly kind: "abort"; readonly by: string }
  /** Store the result, riding out NATS being away for a while; answers stored / storeFailed. */
  | { readonly kind: "store"; readonly record: ResultRecord }
  /** Publish the result's events, in order (same ids on every repeat: the stream keeps one). */
  | { readonly kind: "publish"; readonly events: readonly BgEvent[] };

export interface NodeContext {
  /** ms since the epoch. */
  readonly now: number;
  readonly agentId: string;
  /** The agent is stopping: nothing new starts (the delivery is redelivered). */
  readonly stopping: boolean;
}

export type NodeDecision = Decision<NodeState, NodeCommand>;

/** What the notes say (the log lines); `warn` ones are logged at warn. */
export const Note = {
  joined: "this deploy is already running here; the repeated deploy.started waits for it",
  storeAgain: "already deployed, result not stored yet: storing and publishing it, running nothing",
  republish: "already deployed: re-publishing the recorded result, running nothing",
  stopping: "the node agent is stopping; the deploy will be redelivered",
  expired:
    "deploy.started is past the coordinator's deadline: the deployment has ended; running nothing",
  run: "running the deploy",
  runAborted: "aborted before it started: running it with the abort signalled (no step runs)",
  abort: "deploy aborted: stopping the running deploy",
  abortNothing: "deploy aborted: nothing of it runs here",
  finished: "node deploy finished: storing its result before publishing it",
  finishedAgain: "a result is already kept for this deploy; the later one is dropped",
  stopped: "the node agent stopped during the deploy; it will be redelivered",
  stored: "node deploy result stored: publishing it",
  storedAgain: "the result is already stored",
  storeFailed:
    "the result could not be stored (NATS away); kept here, so a redelivery stores and publishes it instead of deploying again",
} as const;

export const WARN_NOTES: ReadonlySet<string> = new Set([Note.expired, Note.storeFailed]);

export function deployOf(event: BgEvent<"deploy.started">, target: Target): NodeDeployOf {
  return {
    service: event.subject,
    deploymentId: event.deploymentid as string,
    node: nodeId(target.node),
    color: event.data.color,
    version: event.data.version.slice(0, 200),
  };
}

const eventsOf = (record: ResultRecord) => record.events as BgEvent[];

function to(state: NodeState, commands: NodeCommand[], note: string): NodeDecision {
  return { state, commands, changed: true, note };
}

function stay(
  state: NodeState | undefined,
  note: string,
  commands: NodeCommand[] = [],
): NodeDecision {
  return { state, commands, changed: false, note };
}

function onStarted(
  state: NodeState | undefined,
  input: Extract<NodeInput, { kind: "started" }>,
  ctx: NodeContext,
): NodeDecision {
  // What this process or the store already has wins over everything else: never run twice.
  switch (state?.phase) {
    case "running":
      return stay(state, Note.joined);
    case "unrecorded":
      return stay(state, Note.storeAgain, [{ kind: "store", record: state.record }]);
    case "recorded":
      return stay(state, Note.republish, [{ kind: "publish", events: eventsOf(state.record) }]);
  }
  if (ctx.stopping) return { ...stay(state, Note.stopping), defer: true };
  // A deploy.started this late reaches an agent that crashed (or was cut off) mid-deploy and
  // came back after the coordinator gave up: the deployment has ended, run nothing.
  // The deadline the event carries counts first; an older event's is derived from the definition.
  const carried = input.event.data.deadline !== undefined;
  const known = carried || input.definition !== undefined;
  if (known && ctx.now >= startedExpiresAt(input.event, input.definition ?? NO_TIMEOUTS))
    return stay(state, Note.expired);
  const deploy = deployOf(input.event, input.target);
  const { event, target, definition, abortedBy } = input;
  const run: NodeCommand = { kind: "run", deploy, event, target, definition, abortedBy };
  return abortedBy === undefined
    ? to({ phase: "running", deploy }, [run], Note.run)
    : to({ phase: "running", deploy, abortedBy }, [run], Note.runAborted);
}

/** Only read when the event carries its own deadline. */
const NO_TIMEOUTS = { deploy: { timeout: 0 }, readiness: { timeout: 0 } };

export function decide(
  state: NodeState | undefined,
  input: NodeInput,
  ctx: NodeContext,
): NodeDecision {
  switch (input.kind) {
    case "started":
      return onStarted(state, input, ctx);
    case "aborted":
      return state?.phase === "running"
        ? to({ ...state, abortedBy: input.by }, [{ kind: "abort", by: input.by }], Note.abort)
        : stay(state, Note.abortNothing);
    case "finished": {
      if (state?.phase === "unrecorded" || state?.phase === "recorded")
        return stay(state, Note.finishedAgain);
      const record: ResultRecord = {
        ...input.deploy,
        outcome: input.result.outcome,
        finishedAt: new Date(ctx.now).toISOString(),
        agentId: ctx.agentId,
        events: input.result.final,
      };
      return to({ phase: "unrecorded", record }, [{ kind: "store", record }], Note.finished);
    }
    case "stopped":
      return state?.phase === "running"
        ? { state: undefined, commands: [], changed: true, note: Note.stopped }
        : stay(state, Note.stopped);
    case "stored":
      return state?.phase === "recorded"
        ? stay(state, Note.storedAgain)
        : to(
            { phase: "recorded", record: input.record },
            [{ kind: "publish", events: eventsOf(input.record) }],
            Note.stored,
          );
    case "storeFailed":
      return stay(state, Note.storeFailed);
  }
}
