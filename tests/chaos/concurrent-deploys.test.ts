// Many deploy requests for one service at the same moment, against the whole stack (real
// coordinator, node agents, switcher, monitor, nginx): exactly one runs and holds the service
// lock; every other one is refused with BG_ERR_DEPLOY_BUSY naming it (docs/coordinator.md,
// "Pre-flight and the service lock"); the one that runs ends, releases the lock, and nginx
// serves its version. The requests ask for a manual gate, so the winner is still running
// while the last refusal is decided, however slowly the machine answers.

import { type BgEvent, createEvent, encodeEvent, eventSubject } from "@bluegreen/contracts";
import { eventsByDeployment, timeline, waitFor } from "@bluegreen/testkit";
import { describe, expect, it } from "vitest";
import { type E2eStack, e2eStackForSuite } from "../e2e/stack.ts";
import { repeatedIds } from "./node-rig.ts";

let stack: E2eStack;

e2eStackForSuite({ window: "3s" }, (started) => {
  stack = started;
});

const CLOSING = new Set([
  "deploy.succeeded",
  "deploy.failed",
  "deploy.rejected",
  "deploy.aborted",
  "deploy.rolled_back",
]);
const closings = (events: readonly BgEvent[]) => timeline(events).filter((n) => CLOSING.has(n));

/** Waits until every id has reached the gate or an end; returns their events. */
async function settled(ids: readonly string[], timeoutMs: number) {
  return waitFor(
    async () => {
      const all = await eventsByDeployment(stack.base.js, stack.service);
      const done = ids.every((id) =>
        timeline(all.get(id) ?? []).some(
          (n) => CLOSING.has(n) || n === "deploy.awaiting_promotion",
        ),
      );
      return done ? all : undefined;
    },
    { what: `all ${ids.length} requests to be decided`, timeoutMs, intervalMs: 250 },
  );
}

/** One request is running, the others were refused naming it, and it holds the lock. */
async function expectOneRuns(all: Map<string, BgEvent[]>, ids: readonly string[]) {
  const running = ids.filter((id) => timeline(all.get(id) ?? []).includes("deploy.started"));
  expect(running).toHaveLength(1);
  const winner = running[0] as string;
  expect(timeline(all.get(winner) ?? [])).toContain("deploy.awaiting_promotion");
  for (const id of ids.filter((i) => i !== winner)) {
    const events = all.get(id) ?? [];
    expect(timeline(events), id).toEqual(["deploy.requested", "deploy.rejected"]);
    const rejected = events[1] as BgEvent<"deploy.rejected">;
    expect(rejected.data.error.code, id).toBe("BG_ERR_DEPLOY_BUSY");
    expect(rejected.data.runningDeploymentId, id).toBe(winner);
    expect(rejected.data.error.message).toContain(`busy with deployment ${winner}`);
  }
  const lock = await stack.lock();
  expect(lock).toMatchObject({ holder: winner });
  expect(lock?.releasedAt).toBeUndefined();
  return winner;
}

/** Promotes the winner; then it succeeds, the lock is free and nginx serves its version. */
async function expectWinnerEnds(winner: string, version: string, color: string) {
  // Until promoted, traffic never moved.
  expect(await stack.served()).toMatchObject({
    status: 200,
    color: color === "green" ? "blue" : "green",
  });
  const promoted = await stack.cli(
    ["promote", stack.service, winner, "--wait", "--timeout", "60s"],
    70_000,
  );
  expect(promoted.code, promoted.stdout + promoted.stderr).toBe(0);
  const events = await stack.events(winner);
  expect(repeatedIds(events)).toEqual([]);
  const names = timeline(events);
  for (const once of ["deploy.started", "switch.requested", "switch.done", "deploy.succeeded"])
    expect(
      names.filter((n) => n === once),
      `${once} in ${names.join(", ")}`,
    ).toHaveLength(1);
  expect(closings(events)).toEqual(["deploy.succeeded"]);
  expect(await stack.lock()).toMatchObject({ holder: winner, releasedAt: expect.any(String) });
  expect(await stack.served()).toMatchObject({ status: 200, color, version });
}

describe("given blue serves v1.0", () => {
  it("when 50 deploy.requested for the service are published at once, then exactly one runs, 49 are refused BG_ERR_DEPLOY_BUSY naming it, and it ends with the lock released and nginx serving its version", async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `d-conc-${String(i).padStart(2, "0")}`);
    const versionOf = (id: string) => `v3.${Number(id.slice(-2))}`;
    const requests = ids.map((id) =>
      createEvent("deploy.requested", {
        service: stack.service,
        source: "bluegreen/cli/chaos-concurrency",
        deploymentId: id,
        data: { version: versionOf(id), requestedBy: "ci:chaos", manualPromotion: true },
      }),
    );
    const subject = eventSubject(stack.service, "deploy.requested");
    const t0 = Date.now();
    const acks = await Promise.all(
      requests.map((e) => stack.base.js.publish(subject, encodeEvent(e), { msgID: e.id })),
    );
    const published = Date.now() - t0;
    expect(acks.filter((a) => a.duplicate)).toEqual([]);
    const all = await settled(ids, 60_000);
    const decided = Date.now() - t0;
    // Every request was decided exactly once.
    for (const id of ids) expect(repeatedIds(all.get(id) ?? []), id).toEqual([]);
    const winner = await expectOneRuns(all, ids);
    await expectWinnerEnds(winner, versionOf(winner), "green");
    for (const id of ids) {
      const events = id === winner ? await stack.events(id) : (all.get(id) ?? []);
      expect(closings(events), id).toHaveLength(1);
    }
    console.info(`50 requests: published in ${published} ms, all decided after ${decided} ms`);
  }, 150_000);

  it("when 10 `bluegreen deploy --wait --manual` run at once, then one waits at the gate, 9 exit 3 naming it, and once promoted it exits 0", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `d-cli-${i}`);
    const runs = ids.map((id, i) =>
      stack.cli(
        ["deploy", stack.service, `v4.${i}`, "--wait", "--manual", "--timeout", "90s", "--id", id],
        100_000,
      ),
    );
    const all = await settled(ids, 90_000);
    const winner = await expectOneRuns(all, ids);
    const losers = await Promise.all(runs.filter((_, i) => ids[i] !== winner));
    for (const r of losers) {
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stdout).toContain(
        `BG_ERR_DEPLOY_BUSY: service '${stack.service}' is busy with deployment ${winner}`,
      );
    }
    const i = ids.indexOf(winner);
    await expectWinnerEnds(winner, `v4.${i}`, "blue");
    const won = await runs[i];
    expect(won?.code, `${won?.stdout}${won?.stderr}`).toBe(0);
  }, 180_000);
});
