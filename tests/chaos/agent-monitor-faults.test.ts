// The monitor's faults in a full deployment (nats-server, nginx, the two sample-app nodes, the
// switcher, a node agent per colour, the monitor and the coordinator, all real processes,
// driven by the `bluegreen` CLI as CI drives it): the monitor killed mid-window and started
// again, and Prometheus unreachable for the whole window. The definition watches for 8 s at
// 1 s with an inconclusive limit of 5 (`on_limit: rollback`, the demo's monitor section).

import {
  type AnyBgEvent,
  type BgEvent,
  Buckets,
  type Color,
  type EventName,
} from "@bluegreen/contracts";
import { type AgentProcess, freePort, respawnAgent, waitFor } from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eStack, startE2eStack } from "../e2e/stack.ts";
import { countByName } from "./switcher-kill.ts";

const WINDOW_MS = 8_000;
const INCONCLUSIVE_LIMIT = 5;

let stack: E2eStack;
let monitor: AgentProcess;
let seq = 0;

type Of<N extends EventName> = Extract<AnyBgEvent, { type: `bluegreen.${N}` }>;

/** Every event of one deployment seen so far (core subscription), of one type. */
function seenOf<N extends EventName>(deploymentId: string, name: N): Of<N>[] {
  return stack.log.events.filter(
    (e): e is Of<N> => e.type === `bluegreen.${name}` && e.deploymentid === deploymentId,
  );
}

function waitSeen<N extends EventName>(
  deploymentId: string,
  name: N,
  where: (e: Of<N>) => boolean = () => true,
  timeoutMs = 60_000,
): Promise<Of<N>> {
  return waitFor(() => seenOf(deploymentId, name).find(where), {
    what: `${name} of ${deploymentId}`,
    timeoutMs,
    intervalMs: 20,
  });
}

const newDeploymentId = (label: string) => `d-chaos-${label}-${process.pid}-${++seq}`;

/** How many check rounds the stored watch of a deployment has run. */
async function checksStored(deploymentId: string): Promise<number | undefined> {
  const kv = await stack.base.js.views.kv(Buckets.watches);
  const entry = await kv.get(stack.service);
  if (entry === null || entry.operation !== "PUT") return undefined;
  const watch = JSON.parse(new TextDecoder().decode(entry.value)) as {
    deploymentId: string;
    checks: number;
  };
  return watch.deploymentId === deploymentId ? watch.checks : undefined;
}

async function activeColor(): Promise<Color | undefined> {
  const kv = await stack.base.js.views.kv(Buckets.active);
  const entry = await kv.get(stack.service);
  if (entry === null) return undefined;
  return (JSON.parse(new TextDecoder().decode(entry.value)) as { color: Color }).color;
}

/** The deployment's events in the stream (the audit log), by type. */
async function streamCount(deploymentId: string): Promise<Record<string, number>> {
  return countByName(await stack.events(deploymentId));
}

const other = (color: Color): Color => (color === "blue" ? "green" : "blue");

/** What nginx serves now (ten agreeing answers), which must be a healthy colour. */
async function serving(): Promise<{ color: Color; version: string | undefined; status: number }> {
  const now = await stack.served();
  expect(now.status).toBe(200);
  expect(["blue", "green"]).toContain(now.color);
  return { ...now, color: now.color as Color };
}

const deploy = (version: string, id: string) =>
  stack.cli(["deploy", stack.service, version, "--wait", "--timeout", "100s", "--id", id], 120_000);

beforeAll(async () => {
  stack = await startE2eStack({ window: `${WINDOW_MS / 1000}s` });
  const found = stack.base.agents.find((a) => a.name.startsWith("monitor"));
  if (found === undefined) throw new Error("the stack has no monitor");
  monitor = found;
}, 120_000);

afterAll(async () => {
  // The stack stops the agents it started; a monitor started here again is ours to stop.
  if (stack !== undefined && !stack.base.agents.includes(monitor)) {
    await monitor.stop().catch(() => undefined);
  }
  await stack?.stop();
}, 60_000);

describe("given one colour serves and the monitor watches every promotion", () => {
  it("when the monitor is SIGKILLed mid-window and started again, then the watch resumes, passes only after the full window, and deploy --wait exits 0", async () => {
    const before = await serving();
    const id = newDeploymentId("monitor-kill");
    const run = deploy("v1.1", id);

    // When: two check rounds have been stored, the monitor dies, stays dead ~2 s (missing
    // check slots), and is started again from its config file.
    const started = await waitSeen(id, "monitor.started", (e) => !e.data.resumed);
    expect(started.data.windowMs).toBe(WINDOW_MS);
    const checksBefore = await waitFor(
      async () => {
        const checks = await checksStored(id);
        return checks !== undefined && checks >= 2 ? checks : undefined;
      },
      { what: "two stored check rounds", timeoutMs: 20_000, intervalMs: 50 },
    );
    await monitor.kill();
    const killedAt = Date.now();
    expect(Date.parse(started.data.deadline)).toBeGreaterThan(killedAt); // mid-window
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // the outage, not a wait
    monitor = await respawnAgent("monitor", monitor);

    // Then: it resumes the same watch, with the same deadline.
    const resumed = await waitSeen(id, "monitor.started", (e) => e.data.resumed, 30_000);
    expect(resumed.data.deadline).toBe(started.data.deadline);
    expect(resumed.data.color).toBe(other(before.color));

    // And: the deployment succeeds only after the whole window.
    const result = await run;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const passed = seenOf(id, "monitor.passed");
    expect(passed).toHaveLength(1);
    const [pass] = passed;
    expect(pass?.data.durationMs).toBeGreaterThanOrEqual(WINDOW_MS);
    expect(Date.parse(pass?.time ?? "")).toBeGreaterThanOrEqual(Date.parse(started.data.deadline));
    expect(pass?.data.checks).toBeGreaterThan(checksBefore);
    expect(pass?.data.checks).toBeLessThanOrEqual(WINDOW_MS / 1_000);
    expect(pass?.data.color).toBe(other(before.color));

    // The audit stream holds each outcome once, and both announcements.
    const counts = await streamCount(id);
    expect(counts).toMatchObject({
      "switch.done": 1,
      "monitor.started": 2,
      "monitor.passed": 1,
      "deploy.succeeded": 1,
    });
    expect(counts["slo.breached"]).toBeUndefined();
    expect(counts["deploy.rolled_back"]).toBeUndefined();
    expect(await stack.served()).toMatchObject({
      status: 200,
      color: other(before.color),
      version: "v1.1",
    });
    expect(await activeColor()).toBe(other(before.color));
    expect((await stack.lock())?.releasedAt).toBeDefined();
  }, 150_000);

  it("when Prometheus is unreachable for the whole window, then every check is inconclusive, the limit rolls back, deploy --wait exits 5 and nginx serves the previous colour", async () => {
    // Given: the definition now watches through a Prometheus URL on which nothing listens.
    const before = await serving();
    const nowhere = `http://127.0.0.1:${await freePort("127.0.0.1")}`;
    await stack.applyDefinition((doc) => doc.setIn(["monitor", "source"], { prometheus: nowhere }));
    const id = newDeploymentId("prom-down");

    const result = await deploy("v1.2", id);

    // Then: rolled back (exit 5), never passed.
    expect(result.code, result.stdout + result.stderr).toBe(5);
    const started = seenOf(id, "monitor.started");
    expect(started.map((e) => e.data.source)).toEqual(["prometheus"]);
    const inconclusive = seenOf(id, "slo.inconclusive");
    expect(inconclusive.length).toBeGreaterThan(0);
    for (const e of inconclusive) expect(e.data.reason).toBe("unreachable");
    const atLimit = inconclusive.filter((e) => e.data.limitReached);
    expect(atLimit).toHaveLength(1);
    expect(atLimit[0]?.data).toMatchObject({
      count: INCONCLUSIVE_LIMIT,
      limit: INCONCLUSIVE_LIMIT,
      action: "rollback",
    });
    const rolledBack = await waitSeen(id, "deploy.rolled_back", () => true, 5_000);
    expect(rolledBack.data).toMatchObject({
      version: "v1.2",
      from: other(before.color),
      to: before.color,
      restoredVersion: before.version,
      cause: "inconclusive_limit",
    });
    expect(rolledBack.data).not.toHaveProperty("breach");

    const counts = await streamCount(id);
    expect(counts).toMatchObject({ "switch.done": 2, "deploy.rolled_back": 1 });
    expect(counts["monitor.passed"]).toBeUndefined();
    expect(counts["deploy.succeeded"]).toBeUndefined();
    const switches = (await stack.events(id)).filter(
      (e): e is BgEvent<"switch.done"> => e.type === "bluegreen.switch.done",
    );
    expect(switches.map((e) => [e.data.reason, e.data.to])).toEqual([
      ["promote", other(before.color)],
      ["rollback", before.color],
    ]);
    expect(await stack.served()).toEqual(before);
    expect(await activeColor()).toBe(before.color);
    expect((await stack.lock())?.releasedAt).toBeDefined();
  }, 150_000);

  it("when Prometheus is unreachable for a window shorter than the inconclusive limit, then the window still does not pass: rolled back, exit 5", async () => {
    // Given: a 3 s window at 1 s: three checks per SLO, fewer than the limit of five.
    const before = await serving();
    const nowhere = `http://127.0.0.1:${await freePort("127.0.0.1")}`;
    await stack.applyDefinition((doc) => {
      doc.setIn(["monitor", "source"], { prometheus: nowhere });
      doc.setIn(["monitor", "window"], "3s");
    });
    const id = newDeploymentId("prom-down-short");

    const result = await deploy("v1.3", id);

    const counts = await streamCount(id);
    expect(counts, JSON.stringify(counts)).not.toHaveProperty("monitor.passed");
    expect(counts).not.toHaveProperty("deploy.succeeded");
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(counts).toMatchObject({ "switch.done": 2, "deploy.rolled_back": 1 });
    // The last check of the window ended it: three inconclusive checks, below the limit of
    // five, and not one conclusive answer, count as the limit.
    const atEnd = seenOf(id, "slo.inconclusive").filter((e) => e.data.limitReached);
    expect(atEnd).toHaveLength(1);
    expect(atEnd[0]?.data).toMatchObject({
      reason: "unreachable",
      count: 3,
      limit: INCONCLUSIVE_LIMIT,
      action: "rollback",
    });
    expect(atEnd[0]?.data.detail).toContain("the window ended with no conclusive check");
    expect(await stack.served()).toEqual(before);
    expect(await activeColor()).toBe(before.color);
    expect((await stack.lock())?.releasedAt).toBeDefined();
  }, 150_000);
});
