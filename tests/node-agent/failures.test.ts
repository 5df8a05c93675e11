// Given a node agent serving several services, when their deploys go wrong in each of the
// ways a deploy can, then the agent stops at the first failure with a deploy.failed (or
// smoke.failed) that says where and why, and leaves no process behind.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import {
  freePort,
  isProcessAlive,
  type SampleAppHandle,
  startSampleApp,
  timeline,
  waitFor,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentProcess,
  applyDefinition,
  busAndDir,
  definitionYaml,
  eventsOf,
  finalEvent,
  publishAborted,
  publishGreenStarted,
  startAgent,
  waitForOutcome,
} from "./harness.ts";

const rig = busAndDir("node-agent-failures");
let agent: AgentProcess;
let notReady: SampleAppHandle;
let faulty: SampleAppHandle;
let nobodyPort: number;

const SERVICES = ["fail-step", "hang-step", "not-ready", "smoke-bad", "abort-me"] as const;
const hangPids = () => rig.dir.file("hang.pids");
const abortPids = () => rig.dir.file("abort.pids");
const hang = (pidFile: string) => ["sh", "-c", `sleep 300 & echo "$$ $!" > ${pidFile}; wait`];

beforeAll(async () => {
  [notReady, faulty, nobodyPort] = await Promise.all([
    startSampleApp({ color: "green", version: "v2.0", healthFail: true }),
    startSampleApp({ color: "green", version: "v2.0", errorRate: 1, latencyMs: 150 }),
    freePort(),
  ]);
  writeFileSync(hangPids(), "");
  writeFileSync(abortPids(), "");
  type Definition = Omit<Parameters<typeof definitionYaml>[0], "workdir" | "greenPort">;
  const define = (def: Definition & { greenPort?: number }) =>
    applyDefinition(
      rig.bus,
      definitionYaml({ workdir: rig.dir.path, greenPort: nobodyPort, ...def }),
    );
  await Promise.all([
    define({
      service: "fail-step",
      steps: [
        ["true"],
        ["sh", "-c", "echo compiling; echo 'error: missing dependency libfoo' >&2; exit 4"],
        ["touch", "step-3-ran"],
      ],
    }),
    define({ service: "hang-step", steps: [hang(hangPids())], stepTimeout: "1s" }),
    define({
      service: "not-ready",
      greenPort: notReady.port,
      steps: [["true"]],
      readiness: { path: "/health", interval: "100ms", timeout: "1s" },
    }),
    define({
      service: "smoke-bad",
      greenPort: faulty.port,
      steps: [["true"]],
      smoke: [
        { name: "health", request: { path: "/health" }, expect: { json: { status: "healthy" } } },
        {
          name: "inference",
          request: { method: "POST", path: "/api/v1/inference", json: { prompt: "test" } },
        },
        {
          name: "right-colour",
          request: { path: "/health" },
          expect: { json: { color: "blue" } },
        },
        { name: "fast", request: { path: "/health" }, expect: { maxLatency: "50ms" } },
        { name: "script", command: ["sh", "-c", "echo 'smoke script: 2 failures'; exit 1"] },
      ],
    }),
    define({ service: "abort-me", steps: [hang(abortPids())] }),
  ]);
  agent = await startAgent(rig.bus, rig.dir, {
    serves: SERVICES.map((service) => ({ service, color: "green" })),
  });
});

afterAll(async () => {
  await agent?.stop();
  await Promise.all([notReady?.stop(), faulty?.stop()]);
});

function start(service: string, deploymentId: string, port = nobodyPort) {
  return publishGreenStarted(rig.bus, { service, deploymentId, version: "v2.0", port });
}

/** Deploys `service` and waits for its outcome; returns the deployment's events. */
async function deploy(service: string, deploymentId: string, port = nobodyPort) {
  await start(service, deploymentId, port);
  return waitForOutcome(rig.bus, deploymentId);
}

/** Deploys `service`, expects it to fail after `progress`; returns the deploy.failed. */
async function deployFailing(
  service: string,
  deploymentId: string,
  progress: string[],
  port = nobodyPort,
) {
  const events = await deploy(service, deploymentId, port);
  expect(timeline(events)).toEqual(["deploy.started", ...progress, "deploy.failed"]);
  return finalEvent(events, "deploy.failed");
}

async function expectGone(pidFile: string) {
  const pids = readFileSync(pidFile, "utf8").trim().split(/\s+/).map(Number);
  expect(pids).toHaveLength(2);
  await waitFor(() => (pids.every((p) => !isProcessAlive(p)) ? true : undefined), {
    what: `step processes ${pids.join(", ")} to be gone`,
    timeoutMs: 5_000,
  });
}

describe("node agent failures", () => {
  it("given a step that exits 4, then deploy.failed carries the step, exit code and output tail, and later steps never run", async () => {
    const failed = await deployFailing("fail-step", "d-fail", [
      "progress 1:started",
      "progress 1:succeeded",
      "progress 2:started",
      "progress 2:failed",
    ]);
    expect(failed.data).toMatchObject({
      stage: "deploy",
      step: 2,
      exitCode: 4,
      node: `127.0.0.1:${nobodyPort}`,
      color: "green",
      activeColor: "blue",
      trafficAtRisk: false,
      error: { code: "BG_ERR_STEP_FAILED", retryable: false },
    });
    expect(failed.data.outputTail).toBe("compiling\nerror: missing dependency libfoo");
    expect(failed.data.error.message).toContain("exited with code 4");
    expect(existsSync(rig.dir.file("step-3-ran"))).toBe(false);
  });

  it("given a step that hangs, then it is killed at the step timeout with its children", async () => {
    const failed = await deployFailing("hang-step", "d-hang", [
      "progress 1:started",
      "progress 1:timed_out",
    ]);
    expect(failed.data.error.code).toBe("BG_ERR_STEP_TIMEOUT");
    expect(failed.data.error.message).toContain("did not finish within 1000 ms");
    await expectGone(hangPids());
  });

  it("given a node whose health keeps failing, then readiness gives up at its deadline with the last answer", async () => {
    const progress = ["progress 1:started", "progress 1:succeeded"];
    const failed = await deployFailing("not-ready", "d-not-ready", progress, notReady.port);
    expect(failed.data.stage).toBe("readiness");
    expect(failed.data.error.code).toBe("BG_ERR_READINESS_TIMEOUT");
    expect(failed.data.lastAnswer).toMatch(/^HTTP 503/);
    expect(failed.data.error.message).toContain("was not ready within 1000 ms");
  });

  it("given 5xx, wrong JSON, a slow answer and a failing smoke script, then smoke.failed lists every check and why", async () => {
    const events = await deploy("smoke-bad", "d-smoke", faulty.port);
    expect(timeline(events).slice(-2)).toEqual(["deploy.ready", "smoke.failed"]);
    const failed = finalEvent(events, "smoke.failed");
    const checks = Object.fromEntries(failed.data.checks.map((c) => [c.name, c]));
    expect(failed.data.checks.map((c) => c.name)).toEqual([
      "health",
      "inference",
      "right-colour",
      "fast",
      "script",
    ]);
    expect(checks.health).toMatchObject({ ok: true, status: 200 });
    expect(checks.inference).toMatchObject({
      ok: false,
      status: 500,
      message: "expected status 200, got 500",
    });
    expect(checks["right-colour"]).toMatchObject({
      ok: false,
      message: 'expected json color = "blue", got "green"',
    });
    expect(checks.fast?.ok).toBe(false);
    expect(checks.fast?.message).toMatch(/^took \d+ ms, over the 50 ms latency bound$/);
    expect(checks.script).toMatchObject({
      ok: false,
      message: "exited with code 1: smoke script: 2 failures",
    });
    // The faulty app answers every request (and /health) after 150 ms: each HTTP check took at
    // least that, and the slow one at least what its verdict says it took.
    for (const name of ["health", "inference", "right-colour", "fast"]) {
      expect(checks[name]?.durationMs, name).toBeGreaterThanOrEqual(149);
    }
    const took = Number(/took (\d+) ms/.exec(checks.fast?.message ?? "")?.[1]);
    expect(checks.fast?.durationMs).toBeGreaterThanOrEqual(took);
    expect(Number.isInteger(checks.script?.durationMs)).toBe(true);
    expect(failed.data.error.code).toBe("BG_ERR_SMOKE_FAILED");
    expect(failed.data.error.message).toContain("inference, right-colour, fast, script");
  });

  it("given a running step, when the deployment is aborted, then the step is killed and the deploy ends as aborted", async () => {
    await start("abort-me", "d-abort");
    await waitFor(
      async () =>
        timeline(await eventsOf(rig.bus, "d-abort")).includes("progress 1:started")
          ? true
          : undefined,
      { what: "the step to start", timeoutMs: 15_000 },
    );
    await waitFor(() => (readFileSync(abortPids(), "utf8").trim() !== "" ? true : undefined), {
      what: "the step to record its pids",
      timeoutMs: 5_000,
    });
    await publishAborted(rig.bus, { service: "abort-me", deploymentId: "d-abort", by: "alice" });
    const events = await waitForOutcome(rig.bus, "d-abort");
    expect(timeline(events)).toEqual([
      "deploy.started",
      "progress 1:started",
      "deploy.aborted",
      "progress 1:aborted",
      "deploy.failed",
    ]);
    const failed = finalEvent(events, "deploy.failed");
    expect(failed.data.error).toMatchObject({ code: "BG_ERR_DEPLOY_ABORTED" });
    expect(failed.data.error.message).toContain("aborted by alice");
    await expectGone(abortPids());
  });
});
