import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@bluegreen/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { eventMaker } from "./events.ts";
import { groupAlive, signalGroup } from "./executors/process-group.ts";
import { endGroup, interruptedEvent, StepLedger } from "./interrupted.ts";

const logger = createLogger({ level: "silent" });
const of = {
  service: "emily",
  deploymentId: "d-1",
  node: "127.0.0.1:8002",
  color: "green" as const,
  version: "v1.1",
};
const dirs: string[] = [];
const groups: number[] = [];

function ledger(): { dir: string; ledger: StepLedger } {
  const dir = mkdtempSync(join(tmpdir(), "bg-ledger-"));
  dirs.push(dir);
  return { dir, ledger: new StepLedger(dir, logger) };
}

/** A step as the local executor starts it: its own process group, here a long sleep. */
function longStep(): number {
  const child = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
  child.unref();
  const pid = child.pid as number;
  groups.push(pid);
  return pid;
}

afterEach(() => {
  for (const pid of groups.splice(0)) signalGroup(pid, "SIGKILL");
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("StepLedger and endGroup", () => {
  it("a step noted and never ended is found, its group ended, and the event says so", async () => {
    const { ledger: steps } = ledger();
    const pid = longStep();
    steps.forDeploy(of).began({ step: 2, steps: 3, command: ["sleep", "30"], pid });
    const left = steps.left();
    expect(left.map((l) => l.step)).toMatchObject([{ ...of, step: 2, steps: 3, pid }]);
    expect(groupAlive(pid)).toBe(true);
    const step = left[0]?.step;
    if (step === undefined) throw new Error("no step");
    expect(await endGroup(step, 1_000)).toBe("ended");
    expect(groupAlive(pid)).toBe(false);
    const event = interruptedEvent(
      eventMaker("emily", "d-1", "bluegreen/node-agent/a1"),
      step,
      "ended",
    );
    expect(event.data).toMatchObject({ node: of.node, step: 2, steps: 3, status: "interrupted" });
    expect(event.data.outputTail).toContain(`process group ${pid} was still running and was ended`);
  });

  it("a step that ended removes its note", () => {
    const { ledger: steps } = ledger();
    const running = steps.forDeploy(of);
    running.began({ step: 1, steps: 1, command: ["true"], pid: longStep() });
    running.ended();
    expect(steps.left()).toEqual([]);
  });

  it("never signals a group from another boot or a reused pid", async () => {
    const { ledger: steps } = ledger();
    const pid = longStep();
    steps.forDeploy(of).began({ step: 1, steps: 1, command: ["sleep"], pid });
    const step = steps.left()[0]?.step;
    if (step === undefined) throw new Error("no step");
    expect(await endGroup({ ...step, bootId: "another-boot" }, 100)).toBe("gone");
    expect(await endGroup({ ...step, startTime: "1" }, 100)).toBe("gone");
    expect(groupAlive(pid)).toBe(true);
  });

  it("drops a note it cannot read", () => {
    const { dir, ledger: steps } = ledger();
    writeFileSync(join(dir, "step-broken.json"), "{not json");
    expect(steps.left()).toEqual([]);
    expect(steps.left()).toEqual([]);
  });
});
