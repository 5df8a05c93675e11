import { describe, expect, it } from "vitest";
import type { Decision } from "./decide/draft.ts";
import {
  ctxAt,
  deadlineTick,
  INPUT_KINDS,
  type InputKind,
  inputs,
  planFixture,
  stateIn,
  T0,
} from "./decide/fixtures.ts";
import { PHASES, type Phase } from "./decide/phases.ts";
import { deploymentStateSchema } from "./decide/state.ts";
import { decide } from "./decide.ts";

/**
 * Every (phase, input) pair, table-driven. A cell reads:
 *   "="                   nothing changes, nothing is done
 *   "defer"               too early: the shell retries the input later
 *   "<phase>: a b"        the deployment moves to (or stays in) <phase> and does a, b in order
 *                         (event names are published; releaseLock/acquireLock are KV commands)
 */
type Row = Record<InputKind | "deadline", string>;

const quiet = (overrides: Partial<Row>): Row => {
  const row = Object.fromEntries([...INPUT_KINDS, "deadline"].map((k) => [k, "="])) as Row;
  return { ...row, requestedAgain: "in progress", ...overrides };
};

const terminal = (phase: Phase, extra: Partial<Row> = {}): Row =>
  quiet({
    promote: `${phase}: agent.rejected`,
    abort: `${phase}: agent.rejected`,
    rollback: `${phase}: agent.rejected`,
    requestedAgain: `answered: deploy.${phase}`,
    preflightOk: `${phase}: releaseLock`,
    lockAcquired: `${phase}: releaseLock`,
    ...extra,
  });

const preparing = (phase: Phase, extra: Partial<Row>): Row =>
  quiet({
    smokeFailed: "failed: releaseLock deploy.failed",
    agentFailed: "failed: releaseLock",
    promote: `${phase}: agent.rejected`,
    abort: "aborted: releaseLock deploy.aborted",
    rollback: `${phase}: agent.rejected`,
    deadline: "failed: releaseLock deploy.failed",
    ...extra,
  });

const TABLE: Record<Phase, Row> = {
  requested: quiet({
    promote: "requested: agent.rejected",
    abort: "aborted: releaseLock deploy.aborted",
    rollback: "requested: agent.rejected",
    deadline: "rejected: releaseLock deploy.rejected",
    preflightOk: "deploying: deploy.started",
    preflightRejected: "rejected: releaseLock deploy.rejected",
  }),
  deploying: preparing("deploying", {
    progressLast: "readiness:",
    ready: "smoke:",
    smokePassed: "switching: switch.requested",
  }),
  readiness: preparing("readiness", {
    ready: "smoke:",
    smokePassed: "switching: switch.requested",
  }),
  smoke: preparing("smoke", { smokePassed: "switching: switch.requested" }),
  awaiting_promotion: quiet({
    agentFailed: "failed: releaseLock",
    promote: "switching: switch.requested",
    abort: "aborted: releaseLock deploy.aborted",
    rollback: "awaiting_promotion: agent.rejected",
    deadline: "aborted: releaseLock deploy.aborted",
  }),
  switching: quiet({
    switchDonePromote: "monitoring:",
    switchFailedPromote: "failed: releaseLock deploy.failed",
    monitorStarted: "defer",
    monitorPassed: "defer",
    sloBreached: "defer",
    sloInconclusiveLimit: "defer",
    abort: "switching:",
    rollback: "switching:",
    deadline: "failed: releaseLock deploy.failed",
  }),
  monitoring: quiet({
    monitorStarted: "monitoring:",
    monitorPassed: "succeeded: releaseLock deploy.succeeded",
    sloBreached: "rolling_back: switch.requested",
    sloInconclusiveLimit: "rolling_back: switch.requested",
    abort: "rolling_back: switch.requested",
    rollback: "rolling_back: switch.requested",
    deadline: "failed: releaseLock deploy.failed",
  }),
  succeeded: terminal("succeeded", {
    promote: "=",
    rollback: "succeeded: acquireLock",
  }),
  rolling_back: quiet({
    switchDoneRollback: "rolled_back: releaseLock deploy.rolled_back",
    switchFailedRollback: "failed: releaseLock deploy.failed",
    promote: "rolling_back: agent.rejected",
    deadline: "failed: releaseLock deploy.failed",
  }),
  rolled_back: terminal("rolled_back"),
  failed: terminal("failed"),
  aborted: terminal("aborted"),
  // Only rejected: the id is free again, the request starts afresh.
  rejected: terminal("rejected", { requestedAgain: "requested: preflight" }),
};

function describeDecision(d: Decision): string {
  if (d.defer) return "defer";
  if (!d.changed && d.commands.length === 0) return "=";
  const [c] = d.commands;
  if (!d.changed && c?.kind === "publish" && d.commands.length === 1) {
    // An answer that changes nothing: a repeated request (see onRepeatRequest).
    if (c.event.type === "bluegreen.agent.rejected")
      return (c.event.data as { code: string }).code === "BG_ERR_DEPLOY_IN_PROGRESS"
        ? "in progress"
        : "refused";
    return `answered: ${c.event.type.replace(/^bluegreen\./, "")}`;
  }
  const cmds = d.commands.map((c) =>
    c.kind === "publish" ? c.event.type.replace(/^bluegreen\./, "") : c.kind,
  );
  return `${d.state?.phase}:${cmds.map((c) => ` ${c}`).join("")}`;
}

describe("decide: every (phase, input) pair", () => {
  it("has a row for every phase and a cell for every input", () => {
    expect(Object.keys(TABLE).sort()).toEqual([...PHASES].sort());
    for (const row of Object.values(TABLE))
      expect(Object.keys(row).sort()).toEqual([...INPUT_KINDS, "deadline"].sort());
  });

  for (const phase of PHASES) {
    const row = TABLE[phase];
    for (const [kind, expected] of Object.entries(row)) {
      it(`${phase} + ${kind} → ${expected}`, () => {
        const plan = planFixture({ manualPromotion: phase === "awaiting_promotion" });
        const state = stateIn(phase, plan);
        const at = Date.parse(state.deadline?.at ?? new Date(T0).toISOString()) + 1;
        const input =
          kind === "deadline" ? deadlineTick(state) : inputs(plan, at)[kind as InputKind]();
        const decision = decide(state, input, ctxAt(Math.max(at, T0 + 60_000)));
        expect(describeDecision(decision)).toBe(expected);
        // Whatever the answer, the state stays a valid stored deployment.
        expect(deploymentStateSchema.safeParse(decision.state).success).toBe(true);
      });
    }
  }
});
