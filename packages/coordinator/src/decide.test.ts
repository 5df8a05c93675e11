import type { BgEvent, EventName } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { publishedEvents } from "./decide/commands.ts";
import type { Decision } from "./decide/draft.ts";
import {
  ctxAt,
  DEPLOYMENT_ID,
  deadlineTick,
  ev,
  inputs,
  planFixture,
  stateIn,
  T0,
} from "./decide/fixtures.ts";
import type { Input } from "./decide/inputs.ts";
import type { DeploymentState, Plan } from "./decide/state.ts";
import { decide } from "./decide.ts";

/** Feeds inputs in order, one second apart, and returns every decision. */
function run(start: DeploymentState | undefined, steps: Input[], from = T0): Decision[] {
  let state = start;
  let now = from;
  return steps.map((input) => {
    now += 1_000;
    const d = decide(state, input, ctxAt(now));
    state = d.state;
    return d;
  });
}

function published<N extends EventName>(d: Decision | undefined, name: N): BgEvent<N> {
  const e = publishedEvents(d?.commands ?? []).find((x) => x.type === `bluegreen.${name}`);
  if (e === undefined) throw new Error(`no ${name} in ${JSON.stringify(d?.commands)}`);
  return e as BgEvent<N>;
}

const twoNodes = planFixture({
  nodes: [
    { host: "127.0.0.1", port: 8002 },
    { host: "127.0.0.1", port: 8004 },
  ],
});

describe("decide", () => {
  it("takes the deployment id from the request's extension, or from its event id", () => {
    const withExt = decide(undefined, inputs().requested(), ctxAt(T0));
    expect(withExt.state?.deploymentId).toBe(DEPLOYMENT_ID);
    const bare = ev(
      "deploy.requested",
      { version: "v1.1" },
      { id: "ci:412.1", deploymentId: null },
    );
    const d = decide(undefined, { kind: "event", event: bare }, ctxAt(T0));
    expect(d.state?.deploymentId).toBe("ci-412-1");
    expect(d.commands).toEqual([{ kind: "preflight" }]);
  });

  it("deploy.started carries the deploying deadline, which the node agents honour", () => {
    const i = inputs(twoNodes);
    const [, started] = run(undefined, [i.requested(), i.preflightOk()]);
    expect(started?.state?.deadline?.phase).toBe("deploying");
    const event = published(started, "deploy.started");
    expect(event.data.deadline).toBe(started?.state?.deadline?.at);
    const p = twoNodes.timeouts;
    const expected = T0 + 2_000 + p.deployMs + p.readinessMs + 5_000;
    expect(Date.parse(event.data.deadline ?? "")).toBe(expected);
  });

  it("applies a redelivered event once", () => {
    const state = stateIn("deploying");
    const ready = inputs().ready();
    const first = decide(state, ready, ctxAt(T0 + 5_000));
    expect(first.state?.phase).toBe("smoke");
    const again = decide(first.state, ready, ctxAt(T0 + 6_000));
    expect(again.changed).toBe(false);
    expect(again.commands).toEqual([]);
    expect(again.note).toMatch(/duplicate/);
  });

  it("switches only when every node of the idle colour passed smoke", () => {
    const i = inputs(twoNodes);
    const [, , first, foreign, second] = run(undefined, [
      i.requested(),
      i.preflightOk(),
      i.smokePassed(0),
      {
        kind: "event",
        event: ev("smoke.passed", {
          node: "127.0.0.1:9999",
          color: "green",
          version: "v1.1",
          durationMs: 1,
          checks: [],
        }),
      },
      i.smokePassed(1),
    ]);
    expect(first?.state?.phase).toBe("deploying");
    expect(first?.commands).toEqual([]);
    expect(foreign?.changed).toBe(false);
    expect(second?.state?.phase).toBe("switching");
    const sw = published(second, "switch.requested");
    expect(sw.data).toMatchObject({ to: "green", reason: "promote", expectedRevision: 7 });
    expect(sw.deploymentid).toBe(DEPLOYMENT_ID);
    // The switcher refuses the request past the deployment's own switching deadline.
    expect(second?.state?.deadline?.phase).toBe("switching");
    expect((sw.data as { deadline?: string }).deadline).toBe(second?.state?.deadline?.at);
  });

  it("fences the rollback on the revision its own promotion wrote and reports the breach", () => {
    const i = inputs();
    const breachAt = T0 + 100_000;
    const breach = ev(
      "slo.breached",
      {
        slo: "error-ratio",
        color: "green",
        checks: 2,
        value: 0.4,
        threshold: 0.05,
        breaches: 1,
        limit: 1,
        action: "rollback",
      },
      { time: breachAt },
    );
    const monitoring = stateIn("monitoring");
    const rb = decide(monitoring, { kind: "event", event: breach }, ctxAt(breachAt + 20));
    expect(published(rb, "switch.requested").data).toMatchObject({
      to: "blue",
      reason: "rollback",
      expectedRevision: 8,
      version: "v1.0",
    });
    const done = ev(
      "switch.done",
      {
        from: "green",
        to: "blue",
        changed: true,
        reason: "rollback",
        revision: 9,
        timings: { totalMs: 30 },
      },
      { time: breachAt + 1_500 },
    );
    const end = decide(rb.state, { kind: "event", event: done }, ctxAt(breachAt + 1_600));
    expect(end.state?.phase).toBe("rolled_back");
    expect(end.commands[0]).toEqual({ kind: "releaseLock" });
    expect(published(end, "deploy.rolled_back").data).toMatchObject({
      version: "v1.1",
      from: "green",
      to: "blue",
      restoredVersion: "v1.0",
      cause: "slo_breach",
      breach: { slo: "error-ratio", value: 0.4, threshold: 0.05 },
      timeToRollbackMs: 1_500,
    });
    void i;
  });

  it("says loudly when a rollback fails: traffic may be on the bad colour", () => {
    const [failed] = run(stateIn("rolling_back"), [inputs().switchFailedRollback()], T0 + 10_000);
    expect(failed?.state?.phase).toBe("failed");
    expect(published(failed, "deploy.failed").data).toMatchObject({
      stage: "rollback",
      trafficAtRisk: true,
      error: { code: "BG_ERR_SWITCH_TARGET_NOT_READY" },
    });
    expect(failed?.note).toMatch(/TRAFFIC MAY BE ON A BAD COLOUR/);
  });

  it("never rolls back to a colour that never served: no previous colour is a failure", () => {
    const plan = planFixture({ activeColor: null, previousVersion: null, activeRevision: 0 });
    const i = inputs(plan);
    const steps = [
      i.requested(),
      i.preflightOk(),
      i.smokePassed(),
      i.switchDonePromote(),
      i.sloBreached(),
    ];
    const decisions = run(undefined, steps);
    const last = decisions.at(-1);
    expect(last?.state?.phase).toBe("failed");
    expect(publishedEvents(last?.commands ?? []).map((e) => e.type)).not.toContain(
      "bluegreen.switch.requested",
    );
    expect(published(last, "deploy.failed").data).toMatchObject({
      stage: "rollback",
      trafficAtRisk: true,
      error: { code: "BG_ERR_DEPLOY_NO_PREVIOUS" },
    });
  });

  it("an abort during the switch waits for it, then switches back", () => {
    const i = inputs();
    const [pending, done, back] = run(
      stateIn("switching"),
      [i.abort(), i.switchDonePromote(), i.switchDoneRollback()],
      T0 + 10_000,
    );
    expect(pending?.state?.phase).toBe("switching");
    expect(pending?.commands).toEqual([]);
    expect(done?.state?.phase).toBe("rolling_back");
    expect(published(done, "switch.requested").data).toMatchObject({
      to: "blue",
      reason: "rollback",
    });
    expect(back?.state?.phase).toBe("aborted");
    expect(published(back, "deploy.aborted").data).toMatchObject({
      by: "alice",
      trafficMovedBack: true,
      phase: "switching",
    });
  });

  it("an abort before the switch keeps traffic where it is", () => {
    const [d] = run(stateIn("smoke"), [inputs().abort()], T0 + 10_000);
    expect(d?.state?.phase).toBe("aborted");
    expect(published(d, "deploy.aborted").data).toMatchObject({
      trafficMovedBack: false,
      phase: "smoke",
    });
    expect(publishedEvents(d?.commands ?? []).map((e) => e.type)).not.toContain(
      "bluegreen.switch.requested",
    );
  });

  it("waits at the manual gate until promoted", () => {
    const plan: Plan = planFixture({ manualPromotion: true });
    const state = stateIn("awaiting_promotion", plan);
    const [d] = run(state, [inputs(plan).promote()], T0 + 10_000);
    expect(published(d, "switch.requested").data).toMatchObject({ to: "green", by: "alice" });
  });

  it("a rollback after success takes the lock again and is fenced on the current record", () => {
    const i = inputs();
    const [ask, go] = run(stateIn("succeeded"), [i.rollback(), i.lockAcquired()], T0 + 10_000);
    expect(ask?.commands).toEqual([{ kind: "acquireLock" }]);
    expect(go?.state?.phase).toBe("rolling_back");
    expect(published(go, "switch.requested").data).toMatchObject({
      to: "blue",
      reason: "rollback",
      expectedRevision: 8,
    });
  });

  it("refuses a rollback after success when a newer deployment serves", () => {
    const i = inputs();
    const superseded: Input = {
      kind: "lock",
      outcome: {
        acquired: true,
        active: {
          record: {
            color: "blue",
            version: "v1.2",
            switchedAt: new Date(T0).toISOString(),
            deploymentId: "d-newer",
            reason: "promote",
          },
          revision: 12,
        },
      },
    };
    const [, d] = run(stateIn("succeeded"), [i.rollback(), superseded], T0 + 10_000);
    expect(d?.state?.phase).toBe("succeeded");
    expect(d?.commands[0]).toEqual({ kind: "releaseLock" });
    expect(published(d, "agent.rejected").data.message).toMatch(/now serves blue from d-newer/);
  });

  it("a queued request waits while the service is busy", () => {
    const queued = ev("deploy.requested", { version: "v1.1", queue: true });
    const busy: Input = {
      kind: "preflight",
      outcome: {
        ok: false,
        code: "BG_ERR_DEPLOY_BUSY",
        params: { service: "emily", deploymentId: "d-1", phase: "monitoring" },
        busy: true,
        runningDeploymentId: "d-1",
      },
    };
    const [, wait] = run(undefined, [{ kind: "event", event: queued }, busy]);
    expect(wait?.state?.phase).toBe("requested");
    expect(wait?.note).toMatch(/queued behind deployment d-1/);
    const [, now] = run(undefined, [inputs().requested(), busy]);
    expect(now?.state?.phase).toBe("rejected");
    expect(published(now, "deploy.rejected").data).toMatchObject({
      runningDeploymentId: "d-1",
      error: { code: "BG_ERR_DEPLOY_BUSY" },
    });
  });

  it("ignores a deadline tick that was re-armed since", () => {
    const state = stateIn("monitoring");
    const tick = deadlineTick(state);
    const [started] = run(state, [inputs().monitorStarted()], T0 + 10_000);
    expect(started?.state?.deadline?.at).not.toBe(state.deadline?.at);
    const stale = decide(started?.state, tick, ctxAt(Date.parse(state.deadline?.at ?? "") + 1));
    expect(stale.changed).toBe(false);
    expect(stale.note).toMatch(/stale/);
  });

  it("succeeds with the time spent in each phase", () => {
    const [d] = run(stateIn("monitoring"), [inputs().monitorPassed()], T0 + 60_000);
    const data = published(d, "deploy.succeeded").data;
    expect(data).toMatchObject({ version: "v1.1", color: "green", previousColor: "blue" });
    expect(data.durationMs).toBeGreaterThan(0);
    expect(Object.keys(data.phases ?? {})).toEqual(
      expect.arrayContaining(["requested", "deploying", "switching", "monitoring"]),
    );
  });

  it("publishes events with deterministic ids, so a repeat after a crash is de-duplicated", () => {
    const a = decide(stateIn("deploying"), inputs().smokePassed(), ctxAt(T0 + 9_000));
    const b = decide(stateIn("deploying"), inputs().smokePassed(), ctxAt(T0 + 9_000));
    expect(published(a, "switch.requested").id).toBe(published(b, "switch.requested").id);
  });
});
