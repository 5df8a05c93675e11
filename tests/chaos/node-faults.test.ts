// Node-side faults during a real deployment, driven by `bluegreen deploy --wait` as CI runs it
// against the whole stack (nats-server, nginx, the two sample-app nodes, switcher, monitor,
// coordinator): the node's sshd refusing, frozen or dying mid-step, and the node agent
// SIGKILLed mid-step and started again. Each ends in a defined state: the CLI's exit code, one
// coded failure event, every event of the deployment once, the lock released, nginx still
// serving blue, and no step run a second time.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { type BgEvent, eventSubject, parseEvent, STREAM_NAME } from "@bluegreen/contracts";
import {
  type AgentProcess,
  freePort,
  makeTempDir,
  nextEvent,
  respawnAgent,
  type Sshd,
  startSshd,
  type TempDir,
  timeline,
  waitFor,
} from "@bluegreen/testkit";
import type { JetStreamManager } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eStack, startE2eStack } from "../e2e/stack.ts";
import {
  consumerSettled,
  countingStep,
  counts,
  deployEnded,
  killStepProcesses,
  only,
  repeatedIds,
  startedConsumer,
  startNodeAgent,
  stepProcesses,
  trafficBetween,
} from "./node-rig.ts";

let stack: E2eStack;
let sshd: Sshd;
let dir: TempDir;
let deadSshPort: number;
let knownHosts: string;
/** The node agent serving green now (the demo's own is stopped: the test configures its own). */
let green: AgentProcess | undefined;

const lines = (file: string) => {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
};

beforeAll(async () => {
  [stack, sshd, dir, deadSshPort] = await Promise.all([
    startE2eStack({ window: "3s" }),
    startSshd(),
    makeTempDir("node-faults"),
    freePort(),
  ]);
  knownHosts = dir.file("known_hosts");
  writeFileSync(
    knownHosts,
    `${sshd.knownHostsLine}\n[${sshd.host}]:${deadSshPort} ${sshd.hostPublicKey}\n`,
  );
  const demoGreen = stack.base.agents.find((a) => a.name === "node-agent-green");
  await demoGreen?.stop();
}, 120_000);

afterAll(async () => {
  await green?.stop().catch(() => undefined);
  await sshd?.stop();
  await stack?.stop();
  await dir?.remove();
}, 60_000);

async function useGreenAgent(
  agentId: string,
  ssh?: Record<string, unknown>,
): Promise<AgentProcess> {
  await green?.stop();
  green = await startNodeAgent(agentId, dir.path, {
    natsUrl: stack.base.nats.url,
    service: stack.service,
    color: "green",
    stateDir: dir.file(`${agentId}.state`),
    ...(ssh === undefined ? {} : { ssh }),
  });
  return green;
}

const sshSettings = () => ({
  user: sshd.user,
  key_file: sshd.clientKeyPath,
  known_hosts_file: knownHosts,
  connect_timeout: "3s",
});

interface Outcome {
  code: number | null;
  output: string;
  deploymentId: string;
  events: BgEvent[];
  startedAt: number;
  endedAt: number;
}

/** `bluegreen deploy <version> --wait`; `during` runs once deploy.started is published. */
async function deploy(
  version: string,
  during: (started: BgEvent) => Promise<void> = async () => undefined,
): Promise<Outcome> {
  const started = nextEvent(
    stack.base.nc,
    stack.service,
    (e) =>
      e.type === "bluegreen.deploy.started" && (e.data as { version: string }).version === version,
    `deploy.started of ${version}`,
    60_000,
  );
  const startedAt = Date.now();
  const run = stack.cli(["deploy", stack.service, version, "--wait", "--timeout", "90s"], 100_000);
  const [result] = await Promise.all([run, started.then(during)]);
  return {
    ...(await deployEnded(result, (id) => stack.events(id))),
    startedAt,
    endedAt: Date.now(),
  };
}

/** The defined end of a failed deployment: exit 4, each event once, lock free, blue serves. */
async function expectCleanFailure(outcome: Outcome) {
  expect(outcome.code, outcome.output).toBe(4);
  expect(repeatedIds(outcome.events)).toEqual([]);
  const seen = counts(outcome.events);
  expect(seen["deploy.requested"]).toBe(1);
  expect(seen["deploy.started"]).toBe(1);
  expect(seen["deploy.failed"]).toBe(1);
  for (const never of ["deploy.ready", "smoke.passed", "switch.requested", "switch.done"])
    expect(seen[never], timeline(outcome.events).join(", ")).toBeUndefined();
  // The last event of the deployment is its failure.
  expect(timeline(outcome.events).at(-1)).toBe("deploy.failed");
  // When the node agent's deploy.failed is the closing event, the coordinator releases the
  // lock as it handles that same event: moments after the CLI saw it.
  const atExit = (await stack.lock())?.releasedAt !== undefined;
  await expect
    .poll(async () => (await stack.lock())?.releasedAt, { timeout: 10_000, interval: 100 })
    .toBeDefined();
  console.info(`lock already released when the CLI had exited: ${atExit}`);
  expect((await stack.lock())?.holder).toBe(outcome.deploymentId);
  expect(await stack.served()).toMatchObject({ status: 200, color: "blue", version: "v1.0" });
  const traffic = trafficBetween(stack.traffic.samples, outcome.startedAt, outcome.endedAt, "blue");
  expect(traffic.requests).toBeGreaterThan(0);
  expect(traffic.other).toEqual([]);
  return only(outcome.events, "deploy.failed");
}

/** The stream sequence of a deploy.started (the last one of the service: deploys are serial). */
async function streamSeqOf(jsm: JetStreamManager, started: BgEvent): Promise<number> {
  const msg = await jsm.streams.getMessage(STREAM_NAME, {
    last_by_subj: eventSubject(stack.service, "deploy.started"),
  });
  const parsed = parseEvent(msg.data);
  if (!parsed.ok || parsed.event.id !== started.id) throw new Error("not the deploy.started");
  return msg.seq;
}

/** The running-step notes in an agent's `state_dir`. */
const notesOf = (agentId: string) =>
  readdirSync(dir.file(`${agentId}.state`)).filter((f) => f.startsWith("step-"));

/**
 * Over SSH, one long step (its line, then `sleep 60`; `deploy.timeout: 5s`,
 * `readiness.timeout: 2s`: the coordinator's deadline is 5 + 2 + 5 = 12 s), the agent
 * SIGKILLed while it runs (see deployAndKillMidStep).
 */
async function sshStepCrash(agentId: string, version: string) {
  const runs = dir.file(`${agentId}-runs.log`);
  await stack.applyDefinition((doc) => {
    doc.setIn(["deploy", "executor"], "ssh");
    doc.setIn(["nodes", "green", "ssh", "port"], sshd.port);
    doc.setIn(["deploy", "steps"], [countingStep(runs, 60)]);
    doc.setIn(["deploy", "timeout"], "5s");
    doc.deleteIn(["deploy", "step_timeout"]);
    doc.setIn(["readiness", "timeout"], "2s");
  });
  const agent = await useGreenAgent(agentId, sshSettings());
  return { runs, agentId, agent, ...(await deployAndKillMidStep(agentId, agent, version, runs)) };
}

describe("given blue serves v1.0 and the green node is deployed over SSH", () => {
  it("when nothing listens on the node's SSH port, then deploy --wait exits 4 with BG_ERR_SSH_UNREACHABLE, no step ran, blue still serves", async () => {
    await stack.applyDefinition((doc) => {
      doc.setIn(["deploy", "executor"], "ssh");
      doc.setIn(["nodes", "green", "ssh", "port"], deadSshPort);
    });
    await useGreenAgent("node-agent-ssh-refused", sshSettings());
    const outcome = await deploy("v2.1");
    const failed = await expectCleanFailure(outcome);
    expect(failed.source).toBe("bluegreen/node-agent/node-agent-ssh-refused");
    expect(failed.data).toMatchObject({
      stage: "deploy",
      color: "green",
      trafficAtRisk: false,
      error: { code: "BG_ERR_SSH_UNREACHABLE", retryable: true },
    });
    expect(failed.data.error.message).toContain(`${sshd.host}:${deadSshPort}`);
    expect(failed.data.error.message).toContain("connection refused");
    expect(outcome.output).toContain("BG_ERR_SSH_UNREACHABLE");
    expect(counts(outcome.events)["progress 1:started"]).toBeUndefined();
  }, 120_000);

  it("when the node's sshd is frozen (TCP accepted, no SSH banner), then the deploy fails once connect_timeout passes, coded, blue still serves", async () => {
    await stack.applyDefinition((doc) => {
      doc.setIn(["deploy", "executor"], "ssh");
      doc.setIn(["nodes", "green", "ssh", "port"], sshd.port);
    });
    await useGreenAgent("node-agent-ssh-frozen", sshSettings());
    process.kill(sshd.process.pid, "SIGSTOP");
    let outcome: Outcome;
    try {
      outcome = await deploy("v2.2");
    } finally {
      process.kill(sshd.process.pid, "SIGCONT");
    }
    const failed = await expectCleanFailure(outcome);
    expect(failed.data.error).toMatchObject({ code: "BG_ERR_SSH_UNREACHABLE", retryable: true });
    expect(failed.data.error.message).toContain("no SSH handshake within 3000 ms");
    const started = only(outcome.events, "deploy.started");
    const waited = Date.parse(failed.time) - Date.parse(started.time);
    expect(waited).toBeGreaterThanOrEqual(2_900);
    expect(waited).toBeLessThan(15_000);
  }, 120_000);

  it("when the node agent is SIGKILLed while step 1 runs over SSH, then the step runs on on the node until the restarted agent ends its group there (over SSH, before it handles anything) and records it", async () => {
    const { runs, agentId, agent, outcome, note, orphans } = await sshStepCrash(
      "node-agent-ssh-crash",
      "v2.6",
    );
    try {
      // The note names the node's sshd, and the boot and start time read there.
      expect(note).toMatchObject({
        step: 1,
        ssh: { host: sshd.host, port: sshd.port, user: sshd.user },
        bootId: expect.stringMatching(/\S/),
        startTime: expect.stringMatching(/^\d+$/),
      });
      await expectFailedAtDeadline(outcome, 12_000);
      // No pty: sshd did not end the step when the agent's connection died.
      expect(orphans).toContain(note.pid);
      expect(stepProcesses(outcome.deploymentId)).toContain(note.pid);
      const interrupted = await restartAndExpectInterrupted(agentId, agent, outcome);
      expect(interrupted.data.outputTail).toContain(
        `its process group ${note.pid} on ${sshd.user}@${sshd.host}:${sshd.port} was still running and was ended`,
      );
      expect(lines(runs)).toEqual([outcome.deploymentId]);
      expect(notesOf(agentId)).toEqual([]);
    } finally {
      await killStepProcesses(outcome.deploymentId);
    }
  }, 120_000);

  it("when the node's sshd does not answer as the SIGKILLed agent restarts, then the agent says so, keeps the note and consumes anyway, and ends the step on the node at its next start", async () => {
    const { runs, agentId, agent, outcome, note } = await sshStepCrash(
      "node-agent-ssh-unreachable",
      "v2.7",
    );
    try {
      await expectFailedAtDeadline(outcome, 12_000);
      const jsm = await stack.base.nc.jetstreamManager();
      const startedSeq = await streamSeqOf(jsm, only(outcome.events, "deploy.started"));
      // The node's sshd accepts TCP and says nothing: the connect timeout (3 s) runs out.
      process.kill(sshd.process.pid, "SIGSTOP");
      try {
        green = await respawnAgent("nodeAgent", agent);
        // Not held: it settles the redelivered deploy.started (past the deadline) as usual.
        await waitFor(() => consumerSettled(jsm, startedConsumer(agentId), startedSeq), {
          what: "the restarted agent to settle the redelivered deploy.started",
          timeoutMs: 60_000,
        });
      } finally {
        process.kill(sshd.process.pid, "SIGCONT");
      }
      expect(green.process.output.text()).toContain(
        "a step interrupted by the agent's stop was found on a node that cannot be reached: kept, to be tried again",
      );
      const told = await stack.events(outcome.deploymentId);
      expect(timeline(told)).toEqual([...timeline(outcome.events), "progress 1:interrupted"]);
      expect((told.at(-1) as BgEvent<"deploy.progress">).data.outputTail).toContain(
        `the node could not be reached over SSH (cannot reach ${sshd.host}:${sshd.port} over SSH: no SSH handshake within 3000 ms): its process group ${note.pid} on ${sshd.user}@${sshd.host}:${sshd.port} may still run there`,
      );
      expect(stepProcesses(outcome.deploymentId)).toContain(note.pid);
      expect(notesOf(agentId)).toHaveLength(1);
      // The next start, the node answering again: the step is ended there and recorded.
      await green.stop();
      green = await respawnAgent("nodeAgent", agent);
      await expect
        .poll(() => stepProcesses(outcome.deploymentId), { timeout: 15_000, interval: 100 })
        .toEqual([]);
      const ended = await waitFor(
        async () => {
          const events = await stack.events(outcome.deploymentId);
          return events.length === told.length + 1 ? events : undefined;
        },
        { what: "the second interrupted event", timeoutMs: 10_000 },
      );
      expect(timeline(ended)).toEqual([...timeline(told), "progress 1:interrupted"]);
      expect((ended.at(-1) as BgEvent<"deploy.progress">).data.outputTail).toContain(
        `its process group ${note.pid} on ${sshd.user}@${sshd.host}:${sshd.port} was still running and was ended`,
      );
      expect(notesOf(agentId)).toEqual([]);
      expect(lines(runs)).toEqual([outcome.deploymentId]);
    } finally {
      await killStepProcesses(outcome.deploymentId);
    }
  }, 120_000);

  it("when sshd and its sessions die while step 1 runs, then the step fails with a coded error, it ran once, blue still serves", async () => {
    const runs = dir.file("ssh-runs.log");
    await stack.applyDefinition((doc) => {
      doc.setIn(["deploy", "executor"], "ssh");
      doc.setIn(["nodes", "green", "ssh", "port"], sshd.port);
      doc.setIn(["deploy", "steps"], [countingStep(runs, 30)]);
      doc.setIn(["deploy", "timeout"], "20s");
      doc.deleteIn(["deploy", "step_timeout"]);
    });
    await useGreenAgent("node-agent-ssh-dies", sshSettings());
    const outcome = await deploy("v2.3", async () => {
      await nextEvent(
        stack.base.nc,
        stack.service,
        (e) =>
          e.type === "bluegreen.deploy.progress" &&
          (e.data as { status: string }).status === "started",
        "step 1 to start",
      );
      await waitFor(() => (lines(runs).length > 0 ? true : undefined), {
        what: "step 1 to have written its line",
        timeoutMs: 10_000,
      });
      await sshd.stop(); // the server, its sessions and what they run
    });
    const failed = await expectCleanFailure(outcome);
    expect(failed.source).toBe("bluegreen/node-agent/node-agent-ssh-dies");
    // The step did start: the connection was lost under it (retryable), it did not fail to start.
    expect(failed.data).toMatchObject({
      stage: "deploy",
      step: 1,
      error: { code: "BG_ERR_SSH_UNREACHABLE", retryable: true },
    });
    expect(failed.data.error.message).toContain(
      `cannot reach ${sshd.host}:${sshd.port} over SSH: connection lost while step 1`,
    );
    expect(counts(outcome.events)).toMatchObject({
      "progress 1:started": 1,
      "progress 1:failed": 1,
    });
    expect(lines(runs)).toEqual([outcome.deploymentId]);
  }, 120_000);
});

/**
 * Runs `deploy <version> --wait` with a one-step definition whose step (its line in `runs`,
 * then a long sleep) runs until the agent is SIGKILLed: once the step wrote its line and the
 * agent noted it in `state_dir`. Returns the outcome, the note, and the step's processes
 * still running after the kill.
 */
async function deployAndKillMidStep(
  agentId: string,
  agent: AgentProcess,
  version: string,
  runs: string,
): Promise<{ outcome: Outcome; note: Record<string, unknown>; orphans: number[] }> {
  let orphans: number[] = [];
  let note: Record<string, unknown> = {};
  const outcome = await deploy(version, async (started) => {
    await waitFor(() => (lines(runs).length > 0 ? true : undefined), {
      what: "step 1 to have written its line",
      timeoutMs: 15_000,
    });
    // The agent notes the step right after spawning it; on a loaded machine the step can
    // print before that. A crash inside that moment leaves no note (docs/node-agent.md).
    const notes = dir.file(`${agentId}.state`);
    const name = await waitFor(() => readdirSync(notes).find((f) => f.startsWith("step-")), {
      what: "the running step's note in state_dir",
      timeoutMs: 10_000,
    });
    note = JSON.parse(readFileSync(`${notes}/${name}`, "utf8"));
    process.kill(agent.process.pid, "SIGKILL"); // the agent only, as a crash would
    await agent.process.exited;
    orphans = stepProcesses(started.deploymentid as string);
  });
  return { outcome, note, orphans };
}

/**
 * The agent started again: it settles the redelivered deploy.started as past the deadline
 * (running nothing), and before that ends the step's group and records it. Returns the one
 * event after the deployment's failure.
 */
async function restartAndExpectInterrupted(
  agentId: string,
  agent: AgentProcess,
  outcome: Outcome,
): Promise<BgEvent<"deploy.progress">> {
  const jsm = await stack.base.nc.jetstreamManager();
  const startedSeq = await streamSeqOf(jsm, only(outcome.events, "deploy.started"));
  // The node agent comes back: the deploy.started it never acknowledged is redelivered to it.
  green = await respawnAgent("nodeAgent", agent);
  const settled = await waitFor(() => consumerSettled(jsm, startedConsumer(agentId), startedSeq), {
    what: "the restarted agent to settle the redelivered deploy.started",
    timeoutMs: 60_000,
  });
  expect(settled.ackPending).toBe(0);
  const output = green.process.output.text();
  const expired =
    "deploy.started is past the coordinator's deadline: the deployment has ended; running nothing";
  expect(output).toContain(expired);
  // The step's own process group outlived the agent; the restarted agent found it (its note
  // in state_dir) and ended it before it handled anything.
  await expect
    .poll(() => stepProcesses(outcome.deploymentId), { timeout: 5_000, interval: 100 })
    .toEqual([]);
  const found = output.indexOf("a step interrupted by the agent's stop was found");
  expect(found).toBeGreaterThan(-1);
  expect(found).toBeLessThan(output.indexOf(expired));
  // The one event after the failure records the interrupted step and what became of it.
  const after = await stack.events(outcome.deploymentId);
  expect(timeline(after)).toEqual([...timeline(outcome.events), "progress 1:interrupted"]);
  const interrupted = after.at(-1) as BgEvent<"deploy.progress">;
  expect(interrupted.source).toBe(`bluegreen/node-agent/${agentId}`);
  expect(interrupted.data).toMatchObject({ step: 1, steps: 1, status: "interrupted" });
  return interrupted;
}

/** Nobody reported: the coordinator's deploying deadline (`deadlineMs`) ended the deployment. */
async function expectFailedAtDeadline(outcome: Outcome, deadlineMs: number): Promise<void> {
  const failed = await expectCleanFailure(outcome);
  expect(failed.source).toMatch(/^bluegreen\/coordinator\//);
  expect(failed.data).toMatchObject({ stage: "deploy", error: { code: "BG_ERR_DEPLOY_TIMEOUT" } });
  expect(failed.data.error.message).toContain(`deploying deadline of ${deadlineMs} ms`);
  const started = only(outcome.events, "deploy.started");
  const waited = Date.parse(failed.time) - Date.parse(started.time);
  expect(waited).toBeGreaterThanOrEqual(deadlineMs);
  expect(outcome.output).toContain("BG_ERR_DEPLOY_TIMEOUT");
}

describe("given blue serves v1.0 and a local node agent deploys green", () => {
  it("when the node agent is SIGKILLed mid-step, then the coordinator fails the deployment at its deadline (exit 4), and the restarted agent ends the orphaned step, records it, and does not run the old deployment again", async () => {
    const runs = dir.file("local-runs.log");
    await stack.applyDefinition((doc) => {
      doc.setIn(["deploy", "steps"], [countingStep(runs, 30)]);
      doc.setIn(["deploy", "timeout"], "8s");
      doc.deleteIn(["deploy", "step_timeout"]);
      doc.setIn(["readiness", "timeout"], "3s");
    });
    const agentId = "node-agent-crash";
    const agent = await useGreenAgent(agentId);
    const { outcome, orphans } = await deployAndKillMidStep(agentId, agent, "v2.4", runs);
    try {
      // 8 s + 3 s + 5 s grace.
      await expectFailedAtDeadline(outcome, 16_000);
      expect(orphans.length).toBeGreaterThan(0);
      const interrupted = await restartAndExpectInterrupted(agentId, agent, outcome);
      expect(interrupted.data.outputTail).toMatch(
        /process group \d+ was still running and was ended/,
      );
      // It ran nothing: one line from the first run only.
      expect(lines(runs)).toEqual([outcome.deploymentId]);
    } finally {
      await killStepProcesses(outcome.deploymentId);
    }
  }, 150_000);

  it("afterwards, with the original definition, the next deploy succeeds (nothing was left locked)", async () => {
    await stack.applyDefinition(() => undefined);
    await useGreenAgent("node-agent-after");
    const run = await stack.cli(["deploy", stack.service, "v2.5", "--wait", "--timeout", "60s"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await stack.served()).toMatchObject({ status: 200, color: "green", version: "v2.5" });
    expect((await stack.lock())?.releasedAt).toBeDefined();
  }, 90_000);
});
