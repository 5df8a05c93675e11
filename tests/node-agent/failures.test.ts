// Given a node agent serving several services, when their deploys go wrong in each of the
// ways a deploy can, then the agent stops at the first failure with a deploy.failed (or
// smoke.failed) that says where and why, and leaves no process behind.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import {
  freePort,
  isProcessAlive,
  makeTempDir,
  type SampleAppHandle,
  startSampleApp,
  type TempDir,
  timeline,
  waitFor,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentProcess,
  applyDefinition,
  type Bus,
  definitionYaml,
  eventsOf,
  finalEvent,
  publishAborted,
  publishStarted,
  startAgent,
  startBus,
  waitForOutcome,
} from "./harness.ts";

let bus: Bus;
let dir: TempDir;
let agent: AgentProcess;
let notReady: SampleAppHandle;
let faulty: SampleAppHandle;
let nobodyPort: number;

const SERVICES = ["fail-step", "hang-step", "not-ready", "smoke-bad", "abort-me"] as const;
const hangPids = () => dir.file("hang.pids");
const abortPids = () => dir.file("abort.pids");
const hang = (pidFile: string) => ["sh", "-c", `sleep 300 & echo "$$ $!" > ${pidFile}; wait`];

beforeAll(async () => {
  [bus, dir, notReady, faulty, nobodyPort] = await Promise.all([
    startBus(),
    makeTempDir("node-agent-failures"),
    startSampleApp({ color: "green", version: "v2.0", healthFail: true }),
    startSampleApp({ color: "green", version: "v2.0", errorRate: 1, latencyMs: 150 }),
    freePort(),
  ]);
  writeFileSync(hangPids(), "");
  writeFileSync(abortPids(), "");
  const base = { workdir: dir.path, greenPort: nobodyPort };
  await Promise.all([
    applyDefinition(
      bus,
      definitionYaml({
        ...base,
        service: "fail-step",
        steps: [
          ["true"],
          ["sh", "-c", "echo compiling; echo 'error: missing dependency libfoo' >&2; exit 4"],
          ["touch", "step-3-ran"],
        ],
      }),
    ),
    applyDefinition(
      bus,
      definitionYaml({
        ...base,
        service: "hang-step",
        steps: [hang(hangPids())],
        stepTimeout: "1s",
      }),
    ),
    applyDefinition(
      bus,
      definitionYaml({
        ...base,
        service: "not-ready",
        greenPort: notReady.port,
        steps: [["true"]],
        readiness: { path: "/health", interval: "100ms", timeout: "1s" },
      }),
    ),
    applyDefinition(
      bus,
      definitionYaml({
        ...base,
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
    ),
    applyDefinition(
      bus,
      definitionYaml({ ...base, service: "abort-me", steps: [hang(abortPids())] }),
    ),
  ]);
  agent = await startAgent(bus, dir, {
    serves: SERVICES.map((service) => ({ service, color: "green" })),
  });
});

afterAll(async () => {
  await agent?.stop();
  await Promise.all([notReady?.stop(), faulty?.stop()]);
  await bus?.stop();
  await dir?.remove();
});

function deploy(service: string, deploymentId: string, port = nobodyPort) {
  return publishStarted(bus, {
    service,
    deploymentId,
    data: {
      version: "v2.0",
      color: "green",
      nodes: [{ host: "127.0.0.1", port }],
      activeColor: "blue",
    },
  });
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
    await deploy("fail-step", "d-fail");
    const events = await waitForOutcome(bus, "d-fail");
    expect(timeline(events)).toEqual([
      "deploy.started",
      "progress 1:started",
      "progress 1:succeeded",
      "progress 2:started",
      "progress 2:failed",
      "deploy.failed",
    ]);
    const failed = finalEvent(events, "deploy.failed");
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
    expect(existsSync(dir.file("step-3-ran"))).toBe(false);
  });

  it("given a step that hangs, then it is killed at the step timeout with its children", async () => {
    await deploy("hang-step", "d-hang");
    const events = await waitForOutcome(bus, "d-hang");
    expect(timeline(events)).toEqual([
      "deploy.started",
      "progress 1:started",
      "progress 1:timed_out",
      "deploy.failed",
    ]);
    const failed = finalEvent(events, "deploy.failed");
    expect(failed.data.error.code).toBe("BG_ERR_STEP_TIMEOUT");
    expect(failed.data.error.message).toContain("did not finish within 1000 ms");
    await expectGone(hangPids());
  });

  it("given a node whose health keeps failing, then readiness gives up at its deadline with the last answer", async () => {
    await deploy("not-ready", "d-not-ready", notReady.port);
    const events = await waitForOutcome(bus, "d-not-ready");
    expect(timeline(events)).toEqual([
      "deploy.started",
      "progress 1:started",
      "progress 1:succeeded",
      "deploy.failed",
    ]);
    const failed = finalEvent(events, "deploy.failed");
    expect(failed.data.stage).toBe("readiness");
    expect(failed.data.error.code).toBe("BG_ERR_READINESS_TIMEOUT");
    expect(failed.data.lastAnswer).toMatch(/^HTTP 503/);
    expect(failed.data.error.message).toContain("was not ready within 1000 ms");
  });

  it("given 5xx, wrong JSON, a slow answer and a failing smoke script, then smoke.failed lists every check and why", async () => {
    await deploy("smoke-bad", "d-smoke", faulty.port);
    const events = await waitForOutcome(bus, "d-smoke");
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
    for (const check of failed.data.checks) expect(check.durationMs).toBeGreaterThanOrEqual(0);
    expect(failed.data.error.code).toBe("BG_ERR_SMOKE_FAILED");
    expect(failed.data.error.message).toContain("inference, right-colour, fast, script");
  });

  it("given a running step, when the deployment is aborted, then the step is killed and the deploy ends as aborted", async () => {
    await deploy("abort-me", "d-abort");
    await waitFor(
      async () =>
        timeline(await eventsOf(bus, "d-abort")).includes("progress 1:started") ? true : undefined,
      { what: "the step to start", timeoutMs: 15_000 },
    );
    await waitFor(() => (readFileSync(abortPids(), "utf8").trim() !== "" ? true : undefined), {
      what: "the step to record its pids",
      timeoutMs: 5_000,
    });
    await publishAborted(bus, { service: "abort-me", deploymentId: "d-abort", by: "alice" });
    const events = await waitForOutcome(bus, "d-abort");
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
