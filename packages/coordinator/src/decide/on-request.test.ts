import type { BgEvent } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { decide } from "../decide.ts";
import { publishedEvents } from "./commands.ts";
import { ctxAt, DEPLOYMENT_ID, ev, inputs, stateIn, T0, VERSION } from "./fixtures.ts";
import type { Input } from "./inputs.ts";

/** A deployment id runs once, for ever: a repeated request is answered from the stored one. */
const again = (seq: number): Input => ({
  kind: "event",
  event: ev("deploy.requested", { version: VERSION }, { id: `${DEPLOYMENT_ID}.request` }),
  seq,
});
const later = ctxAt(T0 + 24 * 3_600_000);

describe("a repeated deploy.requested", () => {
  it("after success: the same deploy.succeeded again, under a new id tied to the message", () => {
    const state = stateIn("succeeded");
    const decision = decide(state, again(4242), later);
    expect(decision.changed).toBe(false);
    const [answer] = publishedEvents(decision.commands) as BgEvent<"deploy.succeeded">[];
    expect(answer?.type).toBe("bluegreen.deploy.succeeded");
    expect(answer?.id).toBe(`${DEPLOYMENT_ID}.again-4242.deploy.succeeded`);
    expect(answer?.deploymentid).toBe(DEPLOYMENT_ID);
    expect(answer?.data).toEqual(state.outcome?.data);
    expect(decision.commands[0]).toMatchObject({ kind: "publish", replay: true });
    // The same message redelivered gets the same id (the stream drops it); another, another.
    expect(publishedEvents(decide(state, again(4242), later).commands)[0]?.id).toBe(answer?.id);
    expect(publishedEvents(decide(state, again(4243), later).commands)[0]?.id).not.toBe(answer?.id);
  });

  it("after a rollback: deploy.rolled_back again, with its cause", () => {
    const decision = decide(stateIn("rolled_back"), again(7), later);
    const [answer] = publishedEvents(decision.commands) as BgEvent<"deploy.rolled_back">[];
    expect(answer?.type).toBe("bluegreen.deploy.rolled_back");
    expect(answer?.data.cause).toBe("slo_breach");
  });

  it("while it runs: agent.rejected BG_ERR_DEPLOY_IN_PROGRESS naming the request and the phase", () => {
    const state = stateIn("monitoring");
    const decision = decide(state, again(8), later);
    expect(decision.changed).toBe(false);
    const [answer] = publishedEvents(decision.commands) as BgEvent<"agent.rejected">[];
    expect(answer?.data.code).toBe("BG_ERR_DEPLOY_IN_PROGRESS");
    expect(answer?.data.originalId).toBe(`${DEPLOYMENT_ID}.request`);
    expect(answer?.data.message).toContain("monitoring");
  });

  it("the very message that created it (a redelivery) changes nothing", () => {
    const first = decide(undefined, again(5), ctxAt(T0));
    expect(first.state?.requestSeq).toBe(5);
    const ok = decide(first.state, inputs().preflightOk(), ctxAt(T0 + 1));
    const redelivered = decide(ok.state, again(5), ctxAt(T0 + 2));
    expect(redelivered).toMatchObject({ changed: false, commands: [] });
  });

  it("an id that was only rejected starts afresh, its event ids never reused", () => {
    const rejected = stateIn("rejected");
    const decision = decide(rejected, again(9), later);
    expect(decision.state?.phase).toBe("requested");
    expect(decision.state?.requestSeq).toBe(9);
    expect(decision.state?.seq).toBe(rejected.seq);
    expect(decision.commands).toEqual([{ kind: "preflight" }]);
    const started = decide(decision.state, inputs().preflightOk(), later);
    const [event] = publishedEvents(started.commands);
    expect(event?.id).toBe(`${DEPLOYMENT_ID}.${rejected.seq + 1}.deploy.started`);
  });

  it("a record stored before the closing data was kept is told it ended (coded)", () => {
    const state = stateIn("failed");
    const { data: _d, ...outcome } = state.outcome ?? { at: "", event: "" };
    const decision = decide({ ...state, outcome }, again(10), later);
    const [answer] = publishedEvents(decision.commands) as BgEvent<"agent.rejected">[];
    expect(answer?.data.code).toBe("BG_ERR_DEPLOY_WRONG_PHASE");
  });
});
