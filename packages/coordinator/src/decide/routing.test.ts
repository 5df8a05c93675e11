import { describe, expect, it } from "vitest";
import { ctxAt, DEPLOYMENT_ID, ev, SOURCE, T0 } from "./fixtures.ts";
import type { ConsumedEvent } from "./inputs.ts";
import {
  type Candidate,
  deploymentOf,
  rollbackTarget,
  UNKNOWN_GRACE_MS,
  unknownDeployment,
} from "./routing.ts";

const at = (minute: number) => `2026-11-26T10:${String(minute).padStart(2, "0")}:00.000Z`;
const d = (deploymentId: string, phase: string, minute: number): Candidate => ({
  deploymentId,
  phase,
  requestedAt: at(minute),
});

const smokePassed = () =>
  ev("smoke.passed", {
    node: "n:1",
    color: "green",
    version: "v2",
    durationMs: 1,
    checks: [],
  }) as ConsumedEvent;

describe("rollbackTarget: the deployment a rollback without an id is for", () => {
  const cases: [string, Candidate[], Candidate[], string | undefined][] = [
    ["nothing known", [], [], undefined],
    ["the newest in flight", [d("a", "monitoring", 1), d("b", "deploying", 2)], [], "b"],
    ["in flight before stored", [d("a", "monitoring", 1)], [d("z", "succeeded", 9)], "a"],
    ["stored when none in flight", [], [d("y", "succeeded", 3), d("z", "rolled_back", 5)], "z"],
    ["a rejected one is never meant", [d("r", "rejected", 9)], [d("y", "succeeded", 3)], "y"],
    ["only rejected ones: none", [d("r", "rejected", 9)], [d("q", "rejected", 1)], undefined],
  ];
  it.each(cases)("%s", (_name, inFlight, stored, expected) => {
    expect(rollbackTarget(inFlight, stored)).toBe(expected);
  });

  it("reads only what it is given (the shell asks again with the stored ones)", () => {
    expect(rollbackTarget([d("r", "rejected", 9)])).toBeUndefined();
  });
});

describe("deploymentOf: the deployment an event names", () => {
  it("a request's own id, else the deploymentid extension", () => {
    const requested = ev("deploy.requested", { version: "v2" }, { deploymentId: "d-1" });
    const request = ev("deploy.requested", { version: "v2" }, { id: "ci.7", deploymentId: null });
    const smoke = smokePassed();
    const rollback = ev("deploy.rollback_requested", {}, { deploymentId: null });
    expect(deploymentOf(requested as ConsumedEvent)).toBe("d-1");
    expect(deploymentOf(request as ConsumedEvent)).toBe("ci-7");
    expect(deploymentOf(smoke as ConsumedEvent)).toBe(DEPLOYMENT_ID);
    expect(deploymentOf(rollback as ConsumedEvent)).toBeUndefined();
  });
});

describe("unknownDeployment: an event for a deployment nobody knows", () => {
  const operator = {
    promote: () => ev("deploy.promote_requested", { by: "alice" }) as ConsumedEvent,
    abort: () => ev("deploy.abort_requested", { by: "alice" }) as ConsumedEvent,
    rollback: () => ev("deploy.rollback_requested", { by: "alice" }) as ConsumedEvent,
  };
  const late = ctxAt(T0 + UNKNOWN_GRACE_MS);
  const early = ctxAt(T0 + UNKNOWN_GRACE_MS - 1);

  it.each(Object.entries(operator))("%s request: deferred within the grace time", (_n, event) => {
    expect(unknownDeployment(event(), DEPLOYMENT_ID, early).kind).toBe("defer");
  });

  it.each(Object.entries(operator))(
    "%s request: refused with BG_ERR_DEPLOY_NOT_FOUND after it",
    (_n, make) => {
      const event = make();
      const answer = unknownDeployment(event, DEPLOYMENT_ID, late);
      if (answer.kind !== "refuse") throw new Error(`expected a refusal, got ${answer.kind}`);
      expect(answer.event).toMatchObject({
        type: "bluegreen.agent.rejected",
        id: `rej-${event.id}`,
        source: SOURCE,
        subject: "emily",
        deploymentid: DEPLOYMENT_ID,
        data: {
          code: "BG_ERR_DEPLOY_NOT_FOUND",
          originalId: event.id,
          originalType: event.type,
          originalSubject: `bluegreen.emily.${event.type.slice("bluegreen.".length)}`,
        },
      });
    },
  );

  it("a rollback of the latest deployment, when there is none: refused at once", () => {
    const event = ev("deploy.rollback_requested", {}, { deploymentId: null }) as ConsumedEvent;
    const answer = unknownDeployment(event, undefined, ctxAt(T0));
    expect(answer.kind).toBe("refuse");
    if (answer.kind === "refuse") {
      expect(answer.event.deploymentid).toBeUndefined();
      expect(answer.event.data).toMatchObject({ message: expect.stringContaining("(latest)") });
    }
  });

  it("any other event is left alone, with or without an id", () => {
    const smoke = smokePassed();
    const { deploymentid: _id, ...bare } = smoke; // a manual switch's answer names none
    expect(unknownDeployment(smoke, DEPLOYMENT_ID, late).kind).toBe("ignore");
    expect(unknownDeployment(bare as ConsumedEvent, undefined, late).kind).toBe("ignore");
  });
});
