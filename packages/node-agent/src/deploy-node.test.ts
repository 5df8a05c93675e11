import {
  BgError,
  type BgEvent,
  createEvent,
  type EventDataInput,
  type EventName,
} from "@bluegreen/contracts";
import { createLogger } from "@bluegreen/runtime";
import { describe, expect, it } from "vitest";
import { deployNode, NodeOutcome } from "./deploy-node.ts";
import {
  type Executor,
  type StepCommand,
  StepEnd,
  type StepOutcome,
} from "./executors/executor.ts";
import type { RunningSteps } from "./interrupted.ts";
import { planDeploy } from "./plan.ts";

/** An executor that answers from a script instead of running anything. */
function scriptedExecutor(answers: Array<Partial<StepOutcome>>): Executor & { ran: StepCommand[] } {
  const ran: StepCommand[] = [];
  return {
    kind: "local",
    ran,
    run: async (step) => {
      ran.push(step);
      const answer = answers[ran.length - 1] ?? {};
      return {
        end: StepEnd.exited,
        exitCode: 0,
        signal: null,
        durationMs: 5,
        outputTail: "",
        ...answer,
      };
    },
    close: async () => undefined,
  };
}

const definition = {
  service: "emily",
  deploy: {
    executor: "agent" as const,
    workdir: "/opt/emily",
    steps: [
      ["git", "fetch"],
      ["make", "build"],
      ["make", "up"],
    ],
    timeout: 60_000,
    step_timeout: 10_000,
  },
  readiness: { path: "/health", interval: 100, timeout: 1_000, expect_status: 200 },
  smoke: [],
};

function run(
  executor: Executor | (() => Promise<Executor>),
  opts: { signal?: AbortSignal; timeoutMs?: number; running?: RunningSteps } = {},
) {
  const plan = planDeploy({
    definition: {
      ...definition,
      deploy: { ...definition.deploy, timeout: opts.timeoutMs ?? 60_000 },
    },
    deploymentId: "d-1",
    version: "v1.1",
    color: "green",
    node: { host: "127.0.0.1", port: 1 },
  });
  const published: BgEvent[] = [];
  const makeEvent = <N extends EventName>(name: N, data: EventDataInput<N>) =>
    createEvent(name, {
      service: "emily",
      source: "bluegreen/node-agent/test",
      data,
      deploymentId: "d-1",
    });
  const result = deployNode({
    plan,
    definition,
    openExecutor: typeof executor === "function" ? executor : async () => executor,
    makeEvent,
    publish: async (e) => {
      published.push(e);
    },
    signal: opts.signal ?? new AbortController().signal,
    activeColor: "blue",
    logger: createLogger({ level: "silent" }),
    ...(opts.running === undefined ? {} : { running: opts.running }),
  });
  return { result, published };
}

const progress = (events: BgEvent[]) =>
  events.map((e) => {
    const d = e.data as { step: number; status: string };
    return `${d.step}:${d.status}`;
  });

describe("deployNode", () => {
  it("stops at the first failing step with its exit code and output, and runs nothing after it", async () => {
    const executor = scriptedExecutor([
      {},
      { exitCode: 2, outputTail: "make: *** [build] Error 2" },
    ]);
    const { result, published } = run(executor);
    const { outcome, final } = await result;
    expect(outcome).toBe(NodeOutcome.failed);
    expect(executor.ran.map((s) => s.argv)).toEqual([
      ["git", "fetch"],
      ["make", "build"],
    ]);
    expect(progress(published)).toEqual(["1:started", "1:succeeded", "2:started", "2:failed"]);
    expect(final).toHaveLength(1);
    expect(final[0]?.data).toMatchObject({
      stage: "deploy",
      step: 2,
      exitCode: 2,
      outputTail: "make: *** [build] Error 2",
      activeColor: "blue",
      error: { code: "BG_ERR_STEP_FAILED", message: "step 2 (make build) exited with code 2" },
    });
  });

  it("gives each step the BLUEGREEN_* environment and the workdir", async () => {
    const executor = scriptedExecutor([{}, {}, { exitCode: 1 }]);
    await run(executor).result;
    expect(executor.ran[0]).toMatchObject({
      workdir: "/opt/emily",
      env: { BLUEGREEN_VERSION: "v1.1", BLUEGREEN_COLOR: "green", BLUEGREEN_NODE_PORT: "1" },
      timeoutMs: 10_000,
    });
  });

  it("reports a step cut by the overall deadline as a deploy timeout", async () => {
    const executor = scriptedExecutor([{ end: StepEnd.timedOut, exitCode: null }]);
    const { final } = await run(executor, { timeoutMs: 5_000 }).result;
    expect(executor.ran[0]?.timeoutMs).toBeLessThanOrEqual(5_000);
    expect(final[0]?.data).toMatchObject({
      error: { code: "BG_ERR_DEPLOY_TIMEOUT" },
      step: 1,
    });
  });

  it("reports a step that hit its own timeout as a step timeout", async () => {
    const executor = scriptedExecutor([{ end: StepEnd.timedOut, exitCode: null }]);
    const { final } = await run(executor).result;
    expect(final[0]?.data).toMatchObject({ error: { code: "BG_ERR_STEP_TIMEOUT" }, step: 1 });
  });

  it("reports a program that cannot start", async () => {
    const executor = scriptedExecutor([
      { end: StepEnd.spawnFailed, exitCode: null, reason: "spawn git ENOENT" },
    ]);
    const { final } = await run(executor).result;
    expect(final[0]?.data).toMatchObject({
      error: { message: "step 1 could not start 'git': spawn git ENOENT" },
    });
  });

  it("reports an SSH connection lost mid-step as unreachable (retryable), not as a step that could not start", async () => {
    const executor = scriptedExecutor([
      {
        end: StepEnd.connectionLost,
        exitCode: null,
        lost: { host: "10.0.0.11", port: 2222, reason: "connection closed" },
      },
    ]);
    const { result, published } = run(executor);
    const { outcome, final } = await result;
    expect(outcome).toBe(NodeOutcome.failed);
    expect(final[0]?.data).toMatchObject({
      step: 1,
      error: {
        code: "BG_ERR_SSH_UNREACHABLE",
        retryable: true,
        message:
          "cannot reach 10.0.0.11:2222 over SSH: connection lost while step 1 (git fetch) ran: connection closed",
      },
    });
    expect(published.at(-1)?.data).toMatchObject({ step: 1, status: "failed" });
  });

  it("keeps the note of a step that may still run on its node (connection lost, kill not sent), drops the others", async () => {
    const ends: (string | undefined)[] = [];
    const running: RunningSteps = { began: () => undefined, ended: (why) => ends.push(why) };
    const lost = { host: "10.0.0.11", port: 2222, reason: "connection closed" };
    await run(scriptedExecutor([{ end: StepEnd.connectionLost, exitCode: null, lost }]), {
      running,
    }).result;
    await run(
      scriptedExecutor([{ end: StepEnd.timedOut, exitCode: null, unkilled: "no channel" }]),
      {
        running,
      },
    ).result;
    await run(scriptedExecutor([{}, { end: StepEnd.timedOut, exitCode: null }]), { running })
      .result;
    expect(ends).toEqual([
      "the SSH connection was lost while this step ran (connection closed)",
      "the step was stopped but its kill could not be sent (no channel)",
      undefined,
      undefined,
    ]);
  });

  it("fails with the executor's coded error, before any step, when the node cannot be reached", async () => {
    const { result, published } = run(async () => {
      throw new BgError("BG_ERR_SSH_HOST_KEY_MISMATCH", { host: "127.0.0.1", port: 22 });
    });
    const { outcome, final } = await result;
    expect(outcome).toBe(NodeOutcome.failed);
    expect(published).toEqual([]);
    expect(final[0]?.data).toMatchObject({ error: { code: "BG_ERR_SSH_HOST_KEY_MISMATCH" } });
  });

  it("runs nothing when the deployment was aborted before it started", async () => {
    const controller = new AbortController();
    controller.abort("alice");
    const executor = scriptedExecutor([]);
    const { outcome, final } = await run(executor, { signal: controller.signal }).result;
    expect(outcome).toBe(NodeOutcome.aborted);
    expect(executor.ran).toEqual([]);
    expect(final[0]?.data).toMatchObject({
      error: { code: "BG_ERR_DEPLOY_ABORTED", message: "deployment d-1 was aborted by alice" },
    });
  });
});
