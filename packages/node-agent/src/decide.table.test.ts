import { type BgEvent, createEvent, type ServiceDefinition } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import {
  decide,
  deployOf,
  type NodeContext,
  type NodeDecision,
  type NodeInput,
  type NodeState,
  type ResultRecord,
} from "./decide.ts";
import { NodeOutcome } from "./deploy-node.ts";
import { startedExpiresAt } from "./expiry.ts";
import { resultRecordSchema } from "./store.ts";
import type { Target } from "./targets.ts";

// One (deployment, node): d-1 of emily, version v1.1 on green node 10.0.0.11:8000.
const T0 = Date.parse("2026-01-01T10:00:00.000Z");
const started = createEvent("deploy.started", {
  service: "emily",
  source: "bluegreen/coordinator/c1",
  deploymentId: "d-1",
  time: new Date(T0),
  data: {
    version: "v1.1",
    color: "green",
    nodes: [{ host: "10.0.0.11", port: 8000 }],
    activeColor: "blue",
  },
});
const target: Target = {
  node: { host: "10.0.0.11", port: 8000 },
  defined: { host: "10.0.0.11", port: 8000 },
  workdirOverride: undefined,
};
const definition = {
  deploy: { timeout: 60_000 },
  readiness: { timeout: 30_000 },
} as unknown as Readonly<ServiceDefinition>;
const deploy = deployOf(started, target);
const passed = createEvent("smoke.passed", {
  service: "emily",
  source: "bluegreen/node-agent/a1",
  deploymentId: "d-1",
  data: { node: deploy.node, color: "green", version: "v1.1", durationMs: 5, checks: [] },
});
const record: ResultRecord = {
  ...deploy,
  outcome: NodeOutcome.smokePassed,
  finishedAt: new Date(T0 + 1_000).toISOString(),
  agentId: "a1",
  events: [passed],
};

const STATES = {
  nothing: undefined,
  running: { phase: "running", deploy },
  unrecorded: { phase: "unrecorded", record },
  recorded: { phase: "recorded", record },
} satisfies Record<string, NodeState | undefined>;
type StateName = keyof typeof STATES;

const ctx = (over: Partial<NodeContext> = {}): NodeContext => ({
  now: T0 + 1_000,
  agentId: "a1",
  stopping: false,
  ...over,
});
const expired = startedExpiresAt(started, definition);

/** Each input, with the context it comes in. */
const INPUTS = {
  started: () => [{ kind: "started", event: started, target, definition, abortedBy: undefined }],
  startedAbortedBefore: () => [
    { kind: "started", event: started, target, definition, abortedBy: "alice" },
  ],
  startedExpired: () => [
    { kind: "started", event: started, target, definition, abortedBy: undefined },
    ctx({ now: expired }),
  ],
  startedWhileStopping: () => [
    { kind: "started", event: started, target, definition, abortedBy: undefined },
    ctx({ stopping: true }),
  ],
  aborted: () => [{ kind: "aborted", by: "alice" }],
  finished: () => [
    { kind: "finished", deploy, result: { outcome: NodeOutcome.smokePassed, final: [passed] } },
  ],
  stopped: () => [{ kind: "stopped" }],
  stored: () => [{ kind: "stored", record }],
  storeFailed: () => [{ kind: "storeFailed", reason: "TIMEOUT" }],
} satisfies Record<string, () => [NodeInput, NodeContext?]>;
type InputName = keyof typeof INPUTS;

/**
 * Every (state, input) pair. A cell reads:
 *   "="                    nothing changes, nothing is done
 *   "defer"                not now: the delivery is redelivered
 *   "<state>: a b"         the (deployment, node) moves to (or stays in) <state> and does a, b
 */
const TABLE: Record<StateName, Record<InputName, string>> = {
  nothing: {
    started: "running: run",
    startedAbortedBefore: "running: run(aborted)",
    startedExpired: "=",
    startedWhileStopping: "defer",
    aborted: "=",
    finished: "unrecorded: store",
    stopped: "=",
    stored: "recorded: publish",
    storeFailed: "=",
  },
  running: {
    started: "=",
    startedAbortedBefore: "=",
    startedExpired: "=",
    startedWhileStopping: "=",
    aborted: "running: abort",
    finished: "unrecorded: store",
    stopped: "nothing:",
    stored: "recorded: publish",
    storeFailed: "=",
  },
  unrecorded: {
    started: "unrecorded: store",
    startedAbortedBefore: "unrecorded: store",
    startedExpired: "unrecorded: store",
    startedWhileStopping: "unrecorded: store",
    aborted: "=",
    finished: "=",
    stopped: "=",
    stored: "recorded: publish",
    storeFailed: "=",
  },
  recorded: {
    started: "recorded: publish",
    startedAbortedBefore: "recorded: publish",
    startedExpired: "recorded: publish",
    startedWhileStopping: "recorded: publish",
    aborted: "=",
    finished: "=",
    stopped: "=",
    stored: "=",
    storeFailed: "=",
  },
};

function describeDecision(d: NodeDecision): string {
  if (d.defer) return "defer";
  if (!d.changed && d.commands.length === 0) return "=";
  const commands = d.commands.map((c) =>
    c.kind === "run" && c.abortedBy !== undefined ? "run(aborted)" : c.kind,
  );
  return `${d.state?.phase ?? "nothing"}:${commands.map((c) => ` ${c}`).join("")}`;
}

describe("decide: every (state, input) pair of one (deployment, node)", () => {
  it("has a row for every state and a cell for every input", () => {
    expect(Object.keys(TABLE).sort()).toEqual(Object.keys(STATES).sort());
    for (const row of Object.values(TABLE))
      expect(Object.keys(row).sort()).toEqual(Object.keys(INPUTS).sort());
  });

  for (const [stateName, row] of Object.entries(TABLE)) {
    for (const [inputName, expected] of Object.entries(row)) {
      it(`${stateName} + ${inputName} → ${expected}`, () => {
        const [input, context] = INPUTS[inputName as InputName]();
        const decision = decide(STATES[stateName as StateName], input, context ?? ctx());
        expect(describeDecision(decision)).toBe(expected);
        // A result, once there, stays a record the results bucket reads back.
        const state = decision.state;
        if (state !== undefined && state.phase !== "running")
          expect(resultRecordSchema.safeParse(state.record).success).toBe(true);
      });
    }
  }
});

describe("decide: the deadline deploy.started carries", () => {
  const carrying = (deadline: number) =>
    ({
      ...started,
      data: { ...started.data, deadline: new Date(deadline).toISOString() },
    }) as BgEvent<"deploy.started">;
  const input = (
    event: BgEvent<"deploy.started">,
    def: Readonly<ServiceDefinition> | undefined = definition,
  ): NodeInput => ({ kind: "started", event, target, definition: def, abortedBy: undefined });

  it("past it, nothing runs, even well within the formula of older events", () => {
    const decision = decide(undefined, input(carrying(T0 + 500)), ctx({ now: T0 + 1_000 }));
    expect(describeDecision(decision)).toBe("=");
  });

  it("before it, the deploy runs, even past the formula of older events", () => {
    const decision = decide(undefined, input(carrying(expired + 10_000)), ctx({ now: expired }));
    expect(describeDecision(decision)).toBe("running: run");
  });

  it("counts without a definition too (an old event without one runs, as before)", () => {
    const late = ctx({ now: expired + 60_000 });
    const without = (event: BgEvent<"deploy.started">): NodeInput => ({
      kind: "started",
      event,
      target,
      definition: undefined,
      abortedBy: undefined,
    });
    expect(describeDecision(decide(undefined, without(carrying(T0 + 500)), late))).toBe("=");
    expect(describeDecision(decide(undefined, without(started), late))).toBe("running: run");
  });
});

describe("decide: what the commands carry", () => {
  it("a finished deploy's record says who finished it, when, and with which events", () => {
    const result = { outcome: NodeOutcome.failed, final: [passed] };
    const decision = decide(STATES.running, { kind: "finished", deploy, result }, ctx());
    expect(decision.commands).toEqual([{ kind: "store", record: expect.any(Object) }]);
    expect(decision.state).toMatchObject({
      phase: "unrecorded",
      record: {
        service: "emily",
        deploymentId: "d-1",
        node: "10.0.0.11:8000",
        color: "green",
        version: "v1.1",
        outcome: "failed",
        finishedAt: new Date(T0 + 1_000).toISOString(),
        agentId: "a1",
        events: [passed],
      },
    });
  });

  it("a stored result is re-published as stored: the same events, the same ids", () => {
    const decision = decide(STATES.recorded, INPUTS.started()[0], ctx());
    const events = decision.commands.flatMap((c) => (c.kind === "publish" ? c.events : []));
    expect(events.map((e: BgEvent) => e.id)).toEqual([passed.id]);
  });

  it("the store's answer counts, even another process' record", () => {
    const theirs = { ...record, agentId: "a2" };
    const decision = decide(STATES.unrecorded, { kind: "stored", record: theirs }, ctx());
    expect(decision.state).toEqual({ phase: "recorded", record: theirs });
  });

  it("a deploy.started one ms before the coordinator's deadline still runs", () => {
    const [input] = INPUTS.started();
    expect(describeDecision(decide(undefined, input, ctx({ now: expired - 1 })))).toBe(
      "running: run",
    );
  });

  it("without a definition there is no deadline to check: it runs (and fails, as before)", () => {
    const input: NodeInput = { ...INPUTS.started()[0], definition: undefined };
    expect(describeDecision(decide(undefined, input, ctx({ now: expired + 60_000 })))).toBe(
      "running: run",
    );
  });

  it("an abort of a running deploy names who aborted it", () => {
    const decision = decide(STATES.running, { kind: "aborted", by: "alice" }, ctx());
    expect(decision.commands).toEqual([{ kind: "abort", by: "alice" }]);
    expect(decision.state).toEqual({ phase: "running", deploy, abortedBy: "alice" });
  });
});
