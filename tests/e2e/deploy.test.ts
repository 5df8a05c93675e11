// The full flow, all real: nats-server, nginx, two sample-app nodes, the switcher, a node
// agent per colour, the monitor and the coordinator as processes, driven by the `bluegreen`
// CLI as CI drives it. Given blue serves v1.0 …

import type { BgEvent } from "@bluegreen/contracts";
import { parseEvent } from "@bluegreen/contracts";
import { nextEvent as nextServiceEvent } from "@bluegreen/testkit";
import { describe, expect, it } from "vitest";
import { type E2eStack, e2eStackForSuite, setFaults } from "./stack.ts";

let stack: E2eStack;
const names = (events: readonly BgEvent[]) => events.map((e) => e.type.replace("bluegreen.", ""));
const deploymentIdOf = (stdout: string) => /deploying \S+ \S+ as (\S+)/.exec(stdout)?.[1] ?? "";

/** Resolves with the first event of the service for which `match` holds (core subscription). */
const nextEvent = (match: (e: BgEvent) => boolean, timeoutMs = 30_000, what = "an event") =>
  nextServiceEvent(stack.base.nc, stack.service, match, what, timeoutMs);

/** Freezes the coordinator at once (it may already be dead). */
function freeze(): void {
  try {
    process.kill(stack.coordinator().process.pid, "SIGSTOP");
  } catch {
    // already gone
  }
}

interface CrashPoint {
  /** The event whose publication puts the deployment in the phase to crash in. */
  type: string;
  match?: (e: BgEvent) => boolean;
  /** How long the coordinator stays dead (the other agents go on meanwhile). */
  pauseMs: number;
}

/**
 * Crashes the coordinator at each point in turn: the moment the event is published the
 * coordinator is frozen (SIGSTOP, so it cannot take one more step), then SIGKILLed, left dead
 * for a while, and started again from its config. Resolves when every point was crashed.
 */
function crashAt(points: readonly CrashPoint[], timeoutMs = 60_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const crashed: string[] = [];
    let i = 0;
    let busy = false;
    const buffer: BgEvent[] = [];
    const step = async () => {
      if (busy) return;
      const point = points[i];
      if (point === undefined) return;
      const hit = buffer.findIndex(
        (e) => e.type === `bluegreen.${point.type}` && (point.match?.(e) ?? true),
      );
      if (hit < 0) return;
      buffer.splice(0, hit + 1);
      busy = true;
      try {
        freeze();
        await stack.killCoordinator();
        crashed.push(point.type);
        await new Promise((r) => setTimeout(r, point.pauseMs));
        await stack.restartCoordinator();
        i++;
        busy = false;
        if (i === points.length) {
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(crashed);
        } else await step();
      } catch (err) {
        reject(err);
      }
    };
    const sub = stack.base.nc.subscribe(`bluegreen.${stack.service}.>`, {
      callback: (_err, msg) => {
        const parsed = parseEvent(msg.data);
        if (!parsed.ok) return;
        buffer.push(parsed.event);
        if (
          !busy &&
          points[i] !== undefined &&
          parsed.event.type === `bluegreen.${points[i]?.type}` &&
          (points[i]?.match?.(parsed.event) ?? true)
        ) {
          freeze(); // now, before it can act on anything else
        }
        void step();
      },
    });
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(
        new Error(`crashed at ${crashed.join(", ") || "nothing"}; never saw ${points[i]?.type}`),
      );
    }, timeoutMs);
  });
}

e2eStackForSuite(
  { window: "3s" },
  (started) => {
    stack = started;
  },
  90_000,
);

describe("given blue serves v1.0", () => {
  it("deploy v1.1 --wait: exit 0, nginx serves green v1.1, deploy.succeeded, lock released", async () => {
    expect(await stack.served()).toMatchObject({ color: "blue", version: "v1.0" });
    const run = await stack.cli(["deploy", stack.service, "v1.1", "--wait", "--timeout", "50s"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await stack.served()).toMatchObject({ status: 200, color: "green", version: "v1.1" });
    const events = names(await stack.events(deploymentIdOf(run.stdout)));
    expect(events).toEqual(
      expect.arrayContaining([
        "deploy.started",
        "smoke.passed",
        "switch.done",
        "monitor.passed",
        "deploy.succeeded",
      ]),
    );
    expect((await stack.lock())?.releasedAt).toBeDefined();
  }, 90_000);

  it("smoke failing on the idle colour: non-zero exit, nginx still serves green, deploy.failed", async () => {
    // Every API call of what this definition deploys answers 500: the inference check fails.
    await stack.applyDefinition((doc) =>
      doc.setIn(["deploy", "env"], { SAMPLE_APP_ERROR_RATE: "1" }),
    );
    try {
      const run = await stack.cli(["deploy", stack.service, "v1.2", "--wait", "--timeout", "50s"]);
      expect(run.code, run.stdout + run.stderr).toBe(4);
      expect(run.stdout).toMatch(/smoke\.failed .*inference/);
      expect(await stack.served()).toMatchObject({ color: "green", version: "v1.1" });
      const events = names(await stack.events(deploymentIdOf(run.stdout)));
      expect(events).toContain("deploy.failed");
      expect(events).not.toContain("switch.requested");
    } finally {
      await stack.applyDefinition(() => undefined);
    }
  }, 90_000);

  it("errors injected after the switch: slo.breached, nginx serves green again, deploy.rolled_back, exit 5", async () => {
    const run = stack.cli(["deploy", stack.service, "v1.3", "--wait", "--timeout", "50s"]);
    await nextEvent(
      (e) =>
        e.type === "bluegreen.monitor.started" && (e.data as { color: string }).color === "blue",
    );
    await setFaults(stack.base.apps.blue, { errorRate: 1 });
    const result = await run;
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(await stack.served()).toMatchObject({ color: "green", version: "v1.1" });
    const events = await stack.events(deploymentIdOf(result.stdout));
    expect(names(events)).toEqual(expect.arrayContaining(["slo.breached", "deploy.rolled_back"]));
    const rolledBack = events.find((e) => e.type === "bluegreen.deploy.rolled_back");
    expect(rolledBack?.data).toMatchObject({
      from: "blue",
      to: "green",
      cause: "slo_breach",
      restoredVersion: "v1.1",
    });
    await setFaults(stack.base.apps.blue, { errorRate: 0 });
  }, 90_000);

  it("two deploys at once: one runs, the other is rejected naming the first", async () => {
    // Both stop at the manual gate, so the winner is still running when the loser is refused.
    const deploy = (version: string, id: string) =>
      stack.cli([
        "deploy",
        stack.service,
        version,
        "--wait",
        "--manual",
        "--timeout",
        "50s",
        "--id",
        id,
      ]);
    const ids = ["d-e2e-first", "d-e2e-second"];
    const runs = [deploy("v1.4", "d-e2e-first"), deploy("v1.5", "d-e2e-second")];
    const loser = await Promise.race(runs.map((run, i) => run.then((r) => ({ r, i }))));
    expect(loser.r.code, loser.r.stdout + loser.r.stderr).toBe(3);
    const winner = ids[1 - loser.i] as string;
    expect(loser.r.stdout).toContain(
      `BG_ERR_DEPLOY_BUSY: service '${stack.service}' is busy with deployment ${winner}`,
    );
    const aborted = await stack.cli(["abort", stack.service, winner]);
    expect(aborted.code, aborted.stdout + aborted.stderr).toBe(0);
    expect((await runs[1 - loser.i])?.code).toBe(7);
    expect((await stack.lock())?.releasedAt).toBeDefined();
    expect(await stack.served()).toMatchObject({ color: "green", version: "v1.1" });
  }, 90_000);

  it("coordinator SIGKILLed in each phase and restarted: the deployment still succeeds", async () => {
    // requested: the request is published while no coordinator runs.
    await stack.killCoordinator();
    const crashes = crashAt([
      { type: "deploy.requested", pauseMs: 1_000 }, // requested (it is dead already)
      { type: "deploy.started", pauseMs: 300 }, // deploying
      { type: "deploy.ready", pauseMs: 300 }, // smoke
      { type: "switch.requested", pauseMs: 300 }, // switching
      { type: "monitor.started", pauseMs: 500 }, // monitoring
    ]);
    const result = await stack.cli(
      ["deploy", stack.service, "v1.6", "--wait", "--timeout", "80s"],
      85_000,
    );
    expect(await crashes).toHaveLength(5);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await stack.served()).toMatchObject({ color: "blue", version: "v1.6" });
    const events = names(await stack.events(deploymentIdOf(result.stdout)));
    expect(events.filter((n) => n === "switch.requested")).toHaveLength(1);
    expect(events.filter((n) => n === "deploy.succeeded")).toHaveLength(1);
    expect((await stack.lock())?.releasedAt).toBeDefined();
  }, 100_000);

  it("coordinator SIGKILLed on the breach and while rolling back: still rolled back", async () => {
    const crashes = crashAt([
      { type: "slo.breached", pauseMs: 300 }, // monitoring, the breach not yet handled
      {
        type: "switch.requested",
        match: (e) => (e.data as { reason: string }).reason === "rollback",
        pauseMs: 300,
      }, // rolling_back
    ]);
    const run = stack.cli(["deploy", stack.service, "v1.7", "--wait", "--timeout", "80s"], 85_000);
    await nextEvent(
      (e) =>
        e.type === "bluegreen.monitor.started" && (e.data as { color: string }).color === "green",
    );
    await setFaults(stack.base.apps.green, { errorRate: 1 });
    const result = await run;
    expect(await crashes).toHaveLength(2);
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(await stack.served()).toMatchObject({ color: "blue", version: "v1.6" });
    const events = names(await stack.events(deploymentIdOf(result.stdout)));
    expect(events.filter((n) => n === "deploy.rolled_back")).toHaveLength(1);
    await setFaults(stack.base.apps.green, { errorRate: 0 });
  }, 100_000);

  it("tail --since shows the whole story in order; tail --json lines parse as the contract says", async () => {
    const text = await stack.cli(["tail", "--service", stack.service, "--since", "1h"]);
    expect(text.code).toBe(0);
    const first = text.lines.filter((l) => l.includes("v1.1") || /deploy\.succeeded/.test(l));
    expect(
      first.map((l) => /\s(deploy|smoke|switch|monitor)\.\w+/.exec(l)?.[0]?.trim()).slice(0, 3),
    ).toEqual([
      "deploy.requested",
      "deploy.started",
      expect.stringMatching(/deploy\.(progress|ready)/),
    ]);
    const json = await stack.cli(["tail", "--service", stack.service, "--json"]);
    expect(json.lines.length).toBeGreaterThan(30);
    for (const line of json.lines) expect(parseEvent(line).ok, line).toBe(true);
  });
});
