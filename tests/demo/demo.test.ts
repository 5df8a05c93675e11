// `npm run demo` end to end, as a newcomer runs it (minus the set-up): the real demo as a
// child process, judged by what it prints, its exit code, and what it leaves behind.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  isProcessAlive,
  killAll,
  pidsWithEnv,
  REPO_ROOT,
  runCommand,
  SOURCE_NODE_FLAGS,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = join(REPO_ROOT, "scripts/demo/main.ts");
const MARKER = "BLUEGREEN_DEMO_RUN";

interface Finished {
  code: number | null;
  output: string;
  lines: string[];
}

function runDemo(args: readonly string[], timeoutMs: number): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...SOURCE_NODE_FLAGS, MAIN, ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGINT"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output, lines: output.split("\n") });
    });
  });
}

let demo: Finished;
let runId: string | undefined;

/** The lines that contain every one of `parts`. */
const linesWith = (...parts: string[]) =>
  demo.lines.filter((line) => parts.every((part) => line.includes(part)));

beforeAll(async () => {
  demo = await runDemo([], 170_000);
  runId = new RegExp(`${MARKER}=(demo-[0-9a-f]+)`).exec(demo.output)?.[1];
}, 180_000);

afterAll(async () => {
  // A failed run must not leave its processes to the next suite.
  if (runId !== undefined) await killAll(() => pidsWithEnv(MARKER, runId as string), "demo");
});

describe("npm run demo", () => {
  it("exits 0: both stories ended as expected", () => {
    expect(demo.code, demo.output.slice(-4_000)).toBe(0);
    expect(linesWith("demo: all 2 stories ended as expected")).toHaveLength(1);
  });

  it("prints where each piece listens, all on 127.0.0.1", () => {
    for (const name of ["nats-server", "nginx", "app blue", "app green", "switcher-demo"]) {
      expect(linesWith(`  ${name}`, "127.0.0.1:").length, name).toBeGreaterThan(0);
    }
    for (const name of [
      "node-agent-blue",
      "node-agent-green",
      "monitor-demo",
      "coordinator-demo",
    ]) {
      expect(linesWith(`  ${name}`, "/metrics").length, name).toBeGreaterThan(0);
    }
  });

  it("story 1: given blue serves v1.0, when v1.1 is deployed, then green serves it with no failed request", () => {
    const id = `${runId}-1`;
    expect(linesWith(id, "smoke.passed", "green v1.1")).toHaveLength(1);
    expect(linesWith(id, "switch.done", "blue → green (promote")).toHaveLength(1);
    expect(linesWith(id, "monitor.passed", "green")).toHaveLength(1);
    expect(linesWith(id, "deploy.succeeded", "green serves v1.1")).toHaveLength(1);
    expect(linesWith("bluegreen deploy exited 0", `${id}: succeeded`)).toHaveLength(1);
    expect(linesWith("traffic │", "green v1.1").length).toBeGreaterThan(0);
    const summary = demo.lines.findIndex((l) =>
      l.startsWith(`story 1  deploy v1.1  [${id}]  as expected`),
    );
    expect(summary).toBeGreaterThan(0);
    expect(demo.lines.slice(summary, summary + 4)).toContainEqual(
      expect.stringMatching(/^ {2}requests through nginx: [1-9]\d*, failed: 0$/),
    );
  });

  it("story 2: when v1.2 fails after the switch, then the monitor breaches and traffic is back on green", () => {
    const id = `${runId}-2`;
    expect(linesWith(id, "switch.done", "green → blue (promote")).toHaveLength(1);
    expect(linesWith("injected errors into blue v1.2")).toHaveLength(1);
    expect(linesWith(id, "slo.breached", "error-ratio on blue")).toHaveLength(1);
    expect(linesWith(id, "switch.done", "blue → green (rollback")).toHaveLength(1);
    expect(linesWith(id, "deploy.rolled_back", "blue → green (v1.1)")).toHaveLength(1);
    expect(linesWith("bluegreen deploy exited 5", `${id}: ROLLED BACK`)).toHaveLength(1);
    expect(linesWith(`story 2  deploy v1.2  [${id}]  as expected`)).toHaveLength(1);
    expect(linesWith("traffic back on the previous colour", "s (rollback switch")).toHaveLength(1);
  });

  it("the notifier posted each outcome to the webhook receiver once, signed", () => {
    const got = (id: string, type: string) =>
      linesWith("webhook receiver got", `bluegreen.${type} `, ` ${id} `, "(signature ok)");
    expect(got(`${runId}-1`, "deploy.succeeded")).toHaveLength(1);
    expect(got(`${runId}-2`, "slo.breached")).toHaveLength(1);
    expect(got(`${runId}-2`, "deploy.rolled_back")).toHaveLength(1);
    expect(linesWith("signature BAD")).toEqual([]);
    expect(linesWith("notifier: 2 of 2 outcomes delivered")).toHaveLength(1);
  });

  it("leaves no process and no temp dir behind", () => {
    expect(runId).toBeDefined();
    expect(pidsWithEnv(MARKER, runId as string)).toEqual([]);
    const pids = demo.lines
      .map((line) => / pid (\d+)$/.exec(line)?.[1])
      .filter((pid): pid is string => pid !== undefined)
      .map(Number);
    expect(pids.length).toBeGreaterThanOrEqual(11);
    expect(pids.filter((pid) => isProcessAlive(pid))).toEqual([]);
    const dir = /temp dir (\S+)\)/.exec(demo.output)?.[1];
    expect(dir).toBeDefined();
    expect(existsSync(dir as string)).toBe(false);
    expect(linesWith("demo: stopped everything it started")).toHaveLength(1);
  });
});

describe("npm run demo -- <options>", () => {
  it("prints its usage with --help", async () => {
    const result = await runCommand(process.execPath, [...SOURCE_NODE_FLAGS, MAIN, "--help"], {
      cwd: REPO_ROOT,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("usage: npm run demo -- [--keep] [--prometheus]");
  });

  it("refuses an unknown option with exit 2, starting nothing", async () => {
    const result = await runCommand(process.execPath, [...SOURCE_NODE_FLAGS, MAIN, "--kep"], {
      cwd: REPO_ROOT,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("demo: unknown argument '--kep'");
  });
});
