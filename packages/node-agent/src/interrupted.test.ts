import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BgEvent } from "@bluegreen/contracts";
import { createLogger } from "@bluegreen/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { eventMaker } from "./events.ts";
import type { SshEndpoint } from "./executors/factory.ts";
import {
  type GroupHost,
  type GroupSighting,
  groupAlive,
  localGroupHost,
  signalGroup,
} from "./executors/process-group.ts";
import {
  endGroup,
  endLeftSteps,
  interruptedEvent,
  keptNotes,
  type RunningStep,
  StepLedger,
  stillTheStep,
} from "./interrupted.ts";

const logger = createLogger({ level: "silent" });
const of = {
  service: "emily",
  deploymentId: "d-1",
  node: "127.0.0.1:8002",
  color: "green" as const,
  version: "v1.1",
};
const remote = { host: "10.0.0.5", port: 22, user: "root", bootId: "boot-n", startTime: "777" };
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
    expect(await endGroup(step, localGroupHost, 1_000)).toBe("ended");
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
    expect(await endGroup({ ...step, bootId: "another-boot" }, localGroupHost, 100)).toBe("gone");
    expect(await endGroup({ ...step, startTime: "1" }, localGroupHost, 100)).toBe("gone");
    expect(groupAlive(pid)).toBe(true);
  });

  it("each step has a note of its own: one kept from an earlier run is never overwritten, a retry sees only it", () => {
    const { ledger: steps } = ledger();
    steps.forDeploy(of).began({ step: 1, steps: 1, command: ["sleep"], pid: 4242, remote });
    const [old] = steps.left();
    if (old === undefined) throw new Error("no note");
    const kept = new Map([[old.path, old.step.startedAt]]);
    const again = steps.forDeploy(of);
    again.began({ step: 1, steps: 1, command: ["sleep"], pid: 5151, remote });
    expect(steps.left().map((l) => l.step.pid)).toEqual(expect.arrayContaining([4242, 5151]));
    expect(keptNotes(steps.left(), kept).map((l) => l.step.pid)).toEqual([4242]);
    again.ended();
    expect(steps.left().map((l) => l.step.pid)).toEqual([4242]);
  });

  it("keeps, with why, the note of a step over SSH that may still run on its node, and says so", () => {
    const told: [string, string][] = [];
    const { dir } = ledger();
    const steps = new StepLedger(dir, logger, (path, startedAt) => told.push([path, startedAt]));
    const running = steps.forDeploy(of);
    running.began({ step: 1, steps: 1, command: ["sleep"], pid: 4242, remote });
    running.ended("the SSH connection was lost while this step ran (connection closed)");
    const [note] = steps.left();
    expect(note?.step).toMatchObject({ pid: 4242, left: expect.stringContaining("connection") });
    expect(told).toEqual([[note?.path, note?.step.startedAt]]);
    const event = interruptedEvent(
      eventMaker("emily", "d-1", "s"),
      note?.step as RunningStep,
      "gone",
    );
    expect(event.data.outputTail).toBe(
      "the SSH connection was lost while this step ran (connection closed); on a later try, its process group 4242 on root@10.0.0.5:22 was gone already",
    );
    // A local step ends with this process' kill: its note goes whatever the outcome.
    const local = steps.forDeploy({ ...of, deploymentId: "d-2" });
    local.began({ step: 1, steps: 1, command: ["sleep"], pid: longStep() });
    local.ended("whatever");
    expect(steps.left()).toHaveLength(1);
    expect(told).toHaveLength(1);
  });

  it("drops a note it cannot read", () => {
    const { dir, ledger: steps } = ledger();
    writeFileSync(join(dir, "step-broken.json"), "{not json");
    expect(steps.left()).toEqual([]);
    expect(steps.left()).toEqual([]);
  });
});

describe("stillTheStep", () => {
  const noted = { bootId: "boot-a", startTime: "1000" };
  const seen = (over: Partial<GroupSighting> = {}): GroupSighting => ({
    bootId: "boot-a",
    leader: { state: "S", startTime: "1000" },
    groupAlive: true,
    ...over,
  });
  it.each([
    ["the same leader, alive", noted, seen(), "ours"],
    ["the leader gone, others of its group alive", noted, seen({ leader: undefined }), "ours"],
    [
      "the leader a zombie, its group alive",
      noted,
      seen({ leader: { state: "Z", startTime: "1000" } }),
      "ours",
    ],
    [
      "a zombie that reused the pid (another start time) leading a live group",
      noted,
      seen({ leader: { state: "Z", startTime: "2000" } }),
      "gone",
    ],
    ["another boot", noted, seen({ bootId: "boot-b" }), "gone"],
    [
      "a reused pid (another start time)",
      noted,
      seen({ leader: { state: "S", startTime: "2000" } }),
      "gone",
    ],
    ["nothing of the group left", noted, seen({ leader: undefined, groupAlive: false }), "gone"],
    [
      "a node that said no boot id",
      { bootId: "", startTime: "" },
      seen({ bootId: "" }),
      "unchecked",
    ],
  ] as const)("%s: %s", (_what, n, s, verdict) => {
    expect(stillTheStep(n, s)).toBe(verdict);
  });
});

/** A node's group as first seen; TERM ends it (unless stubborn), KILL always does. */
function fakeNode(
  first: GroupSighting,
  stubborn = false,
): GroupHost & { signals: string[]; closed: boolean } {
  let ended = false;
  const node = {
    signals: [] as string[],
    closed: false,
    look: async () => (ended ? { bootId: first.bootId, groupAlive: false } : first),
    signal: async (pgid: number, signal: string) => {
      node.signals.push(`${signal} -${pgid}`);
      ended ||= signal === "KILL" || !stubborn;
    },
    close: async () => {
      node.closed = true;
    },
  };
  return node;
}

describe("endLeftSteps, a step noted on a node over SSH", () => {
  function noted(): { ledger: StepLedger; published: BgEvent<"deploy.progress">[] } {
    const { ledger: steps } = ledger();
    steps.forDeploy(of).began({ step: 1, steps: 2, command: ["sleep", "60"], pid: 4242, remote });
    return { ledger: steps, published: [] };
  }

  /** endLeftSteps with the events it publishes collected in `published`. */
  function endLeft(
    steps: StepLedger,
    published: BgEvent<"deploy.progress">[],
    node: GroupHost,
  ): Promise<number> {
    return endLeftSteps(
      {
        ledger: steps,
        remote: async () => node,
        publish: async (e) => {
          published.push(e);
        },
        source: "s",
        logger,
        kept: new Map(),
      },
      steps.left(),
    );
  }

  it("is noted with the node's sshd, boot id and start time, not this host's", () => {
    const { ledger: steps } = noted();
    const step = steps.left()[0]?.step as RunningStep;
    expect(step).toMatchObject({
      pid: 4242,
      bootId: "boot-n",
      startTime: "777",
      ssh: { host: "10.0.0.5", port: 22, user: "root" },
    });
  });

  it("connects to that node, ends the group there (TERM, then KILL after the grace), records it and drops the note", async () => {
    const { ledger: steps, published } = noted();
    const alive: GroupSighting = {
      bootId: "boot-n",
      leader: { state: "S", startTime: "777" },
      groupAlive: true,
    };
    const node = fakeNode(alive, true);
    const asked: SshEndpoint[] = [];
    const kept = await endLeftSteps(
      {
        ledger: steps,
        remote: async (endpoint) => {
          asked.push(endpoint);
          return node;
        },
        publish: async (e) => {
          published.push(e);
        },
        source: "bluegreen/node-agent/a1",
        logger,
        graceMs: 150,
        kept: new Map(),
      },
      steps.left(),
    );
    expect(kept).toBe(0);
    expect(asked).toEqual([{ host: "10.0.0.5", port: 22, user: "root" }]);
    expect(node.signals).toEqual(["TERM -4242", "KILL -4242"]);
    expect(node.closed).toBe(true);
    expect(published.map((e) => e.data)).toMatchObject([
      { step: 1, steps: 2, status: "interrupted" },
    ]);
    expect(published[0]?.data.outputTail).toContain(
      "its process group 4242 on root@10.0.0.5:22 was still running and was ended",
    );
    expect(steps.left()).toEqual([]);
  });

  it("looks again before the KILL: a group that ended in the grace and whose pid went to another is not killed", async () => {
    const { ledger: steps, published } = noted();
    const signals: string[] = [];
    let termed = false;
    const node: GroupHost = {
      look: async () =>
        termed
          ? { bootId: "boot-n", leader: { state: "S", startTime: "999" }, groupAlive: true }
          : { bootId: "boot-n", leader: { state: "S", startTime: "777" }, groupAlive: true },
      signal: async (pgid, signal) => {
        signals.push(`${signal} -${pgid}`);
        termed = true;
      },
      close: async () => undefined,
    };
    expect(await endGroup(steps.left()[0]?.step as RunningStep, node, 150)).toBe("ended");
    expect(signals).toEqual(["TERM -4242"]);
    expect(published).toEqual([]);
  });

  it("leaves a group that is not the step's any more alone", async () => {
    const { ledger: steps, published } = noted();
    const node = fakeNode({ bootId: "boot-other", groupAlive: true });
    await endLeft(steps, published, node);
    expect(node.signals).toEqual([]);
    expect(published[0]?.data.outputTail).toContain("was gone already");
    expect(steps.left()).toEqual([]);
  });

  it("keeps the note of an unreachable node, says so once, and ends the group once the node answers", async () => {
    const { ledger: steps, published } = noted();
    const kept = new Map<string, string>();
    let reachable = false;
    const node = fakeNode({ bootId: "boot-n", leader: undefined, groupAlive: true });
    const deps = {
      ledger: steps,
      remote: async () => {
        if (!reachable) throw new Error("cannot reach 10.0.0.5:22 over SSH: connection refused");
        return node;
      },
      publish: async (e: BgEvent<"deploy.progress">) => {
        published.push(e);
      },
      source: "s",
      logger,
      graceMs: 100,
      kept,
    };
    expect(await endLeftSteps(deps, steps.left())).toBe(1);
    expect(await endLeftSteps(deps, steps.left())).toBe(1);
    expect(published).toHaveLength(1);
    expect(published[0]?.data.outputTail).toContain(
      "the node could not be reached over SSH (cannot reach 10.0.0.5:22 over SSH: connection refused): its process group 4242 on root@10.0.0.5:22 may still run there",
    );
    expect(steps.left()).toHaveLength(1);
    reachable = true;
    expect(await endLeftSteps(deps, steps.left())).toBe(0);
    expect(published.map((e) => e.data.outputTail?.split("on restart, ")[1])).toEqual([
      expect.stringContaining("could not be reached"),
      "its process group 4242 on root@10.0.0.5:22 was still running and was ended",
    ]);
    expect(node.signals).toEqual(["TERM -4242"]);
    expect(steps.left()).toEqual([]);
    expect(kept.size).toBe(0);
  });

  it("after a node's first failed command, its other notes are kept without trying", async () => {
    const { ledger: steps } = ledger();
    steps.forDeploy(of).began({ step: 1, steps: 2, command: ["a"], pid: 4242, remote });
    steps.forDeploy(of).began({ step: 2, steps: 2, command: ["b"], pid: 5151, remote });
    let looks = 0;
    const node: GroupHost = {
      look: async () => {
        looks += 1;
        throw new Error("no answer within 100 ms");
      },
      signal: async () => undefined,
      close: async () => undefined,
    };
    const published: BgEvent<"deploy.progress">[] = [];
    expect(await endLeft(steps, published, node)).toBe(2);
    expect(looks).toBe(1);
    expect(published.map((e) => e.data.outputTail)).toEqual([
      expect.stringContaining("(no answer within 100 ms)"),
      expect.stringContaining("(no answer within 100 ms)"),
    ]);
    expect(steps.left()).toHaveLength(2);
  });

  it("drops a kept note whose node still does not answer a day after its step started, and says the step was left unchecked", async () => {
    const { ledger: steps } = ledger();
    steps.forDeploy(of).began({ step: 1, steps: 1, command: ["a"], pid: 4242, remote });
    const kept = new Map<string, string>();
    const published: BgEvent<"deploy.progress">[] = [];
    const deps = {
      ledger: steps,
      remote: async () => ({
        look: async () => {
          throw new Error("unexpected answer from the node: Welcome!");
        },
        signal: async () => undefined,
        close: async () => undefined,
      }),
      publish: async (e: BgEvent<"deploy.progress">) => {
        published.push(e);
      },
      source: "s",
      logger,
      kept,
    };
    expect(await endLeftSteps(deps, steps.left())).toBe(1);
    expect(steps.left()).toHaveLength(1);
    expect(await endLeftSteps({ ...deps, maxAgeMs: -1 }, steps.left())).toBe(0);
    expect(steps.left()).toEqual([]);
    expect(kept.size).toBe(0);
    expect(published.at(-1)?.data.outputTail).toContain(
      "its process group 4242 on root@10.0.0.5:22 was left unchecked: the node still could not be reached over SSH or did not answer as expected (unexpected answer from the node: Welcome!) 24 h after the step started",
    );
  });

  it("a note without a node boot id (no /proc there) is reported and its group left alone", async () => {
    const { ledger: steps } = ledger();
    steps.forDeploy(of).began({
      step: 1,
      steps: 1,
      command: ["sleep"],
      pid: 4242,
      remote: { ...remote, bootId: "", startTime: "" },
    });
    const node = fakeNode({ bootId: "", groupAlive: false });
    const published: BgEvent<"deploy.progress">[] = [];
    await endLeft(steps, published, node);
    expect(node.signals).toEqual([]);
    expect(published[0]?.data.outputTail).toContain("was left alone");
  });
});
