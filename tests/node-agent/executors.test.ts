// The two executors over real processes: local child processes, and a real sshd.
import { readFileSync, writeFileSync } from "node:fs";
import { BgError } from "@bluegreen/contracts";
import { type Executor, localExecutor, StepEnd } from "@bluegreen/node-agent";
import { sshExecutor } from "@bluegreen/node-agent/internal";
import {
  freePort,
  isProcessAlive,
  makeTempDir,
  type Sshd,
  startSshd,
  type TempDir,
  waitFor,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: TempDir;
let sshd: Sshd;

beforeAll(async () => {
  [dir, sshd] = await Promise.all([makeTempDir("node-agent-exec"), startSshd()]);
});

afterAll(async () => {
  await sshd?.stop();
  await dir?.remove();
});

/** A step that starts a grandchild, records both pids, and hangs. */
function hangingStep(pidFile: string): string[] {
  return ["sh", "-c", `sleep 300 & echo "$$ $!" > ${pidFile}; wait`];
}

function recordedPids(pidFile: string): number[] {
  return readFileSync(pidFile, "utf8").trim().split(/\s+/).map(Number);
}

async function expectAllGone(pids: number[]): Promise<void> {
  await waitFor(() => (pids.every((p) => !isProcessAlive(p)) ? true : undefined), {
    what: `processes ${pids.join(", ")} to be gone`,
    timeoutMs: 5_000,
  });
}

/** The suite's sshd as the ssh executor's target. */
const sshTarget = () => ({
  host: sshd.host,
  port: sshd.port,
  user: sshd.user,
  keyFile: sshd.clientKeyPath,
  knownHostsFile: sshd.knownHostsPath,
  connectTimeoutMs: 5_000,
});

const executors: Array<[string, () => Promise<Executor>]> = [
  ["local", async () => localExecutor({ killGraceMs: 500 })],
  ["ssh", () => sshExecutor({ ...sshTarget(), killGraceMs: 500 })],
];

describe.each(executors)("%s executor", (_kind, make) => {
  let executor: Executor;
  beforeAll(async () => {
    executor = await make();
  });
  afterAll(async () => {
    await executor?.close();
  });

  it("given a step, when it runs, then it sees the workdir and the BLUEGREEN_* env, argv intact", async () => {
    const outcome = await executor.run({
      argv: [
        "sh",
        "-c",
        'printf "%s|%s|%s" "$(pwd)" "$BLUEGREEN_VERSION" "$1"',
        "sh",
        "a b; $(id) 'q'",
      ],
      workdir: dir.path,
      env: { BLUEGREEN_VERSION: "v1.1" },
      timeoutMs: 10_000,
    });
    expect(outcome.end).toBe(StepEnd.exited);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.outputTail).toBe(`${dir.path}|v1.1|a b; $(id) 'q'`);
  });

  it("given a failing step, then its exit code and the tail of its output come back", async () => {
    const outcome = await executor.run({
      argv: ["sh", "-c", "seq 1 5000; echo 'build failed' >&2; exit 3"],
      workdir: dir.path,
      env: {},
      timeoutMs: 10_000,
    });
    expect(outcome.end).toBe(StepEnd.exited);
    expect(outcome.exitCode).toBe(3);
    expect(outcome.outputTail).toMatch(/build failed$/);
    expect(outcome.outputTail.length).toBeLessThanOrEqual(4096);
  });

  it("given a step that hangs, when its timeout passes, then it and its children are killed", async () => {
    const pidFile = dir.file(`pids-${_kind}`);
    writeFileSync(pidFile, "");
    const outcome = await executor.run({
      argv: hangingStep(pidFile),
      workdir: dir.path,
      env: {},
      timeoutMs: 700,
    });
    expect(outcome.end).toBe(StepEnd.timedOut);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(650);
    expect(outcome.durationMs).toBeLessThan(5_000);
    const pids = recordedPids(pidFile);
    expect(pids).toHaveLength(2);
    await expectAllGone(pids);
  });

  it("given a running step, when the deploy is aborted, then the step stops as aborted", async () => {
    const pidFile = dir.file(`abort-pids-${_kind}`);
    writeFileSync(pidFile, "");
    const controller = new AbortController();
    const running = executor.run({
      argv: hangingStep(pidFile),
      workdir: dir.path,
      env: {},
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    await waitFor(() => (readFileSync(pidFile, "utf8").trim() !== "" ? true : undefined), {
      what: "the step to start",
      timeoutMs: 5_000,
    });
    controller.abort();
    const outcome = await running;
    expect(outcome.end).toBe(StepEnd.aborted);
    await expectAllGone(recordedPids(pidFile));
  });
});

describe("local executor", () => {
  it("given a program that does not exist, then the step fails to spawn with the reason", async () => {
    const outcome = await localExecutor().run({
      argv: ["/nonexistent/deploy-tool", "x"],
      workdir: dir.path,
      env: {},
      timeoutMs: 5_000,
    });
    expect(outcome.end).toBe(StepEnd.spawnFailed);
    expect(outcome.reason).toMatch(/ENOENT/);
  });

  it("given a workdir that does not exist, then the step fails to spawn and says so", async () => {
    const outcome = await localExecutor().run({
      argv: ["true"],
      workdir: dir.file("missing"),
      env: {},
      timeoutMs: 5_000,
    });
    expect(outcome.end).toBe(StepEnd.spawnFailed);
    expect(outcome.reason).toMatch(/is not a directory/);
  });
});

describe("ssh executor connection checks", () => {
  async function codeOf(promise: Promise<unknown>): Promise<string> {
    try {
      const executor = (await promise) as Executor;
      await executor.close();
      return "connected";
    } catch (error) {
      expect(error).toBeInstanceOf(BgError);
      return (error as BgError).code;
    }
  }

  it("given a known-hosts entry with another key, then the connection is refused as a mismatch", async () => {
    const wrong = dir.file("known_hosts_wrong");
    // A valid ed25519 key blob that is not the server's.
    writeFileSync(
      wrong,
      `[${sshd.host}]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`,
    );
    expect(await codeOf(sshExecutor({ ...sshTarget(), knownHostsFile: wrong }))).toBe(
      "BG_ERR_SSH_HOST_KEY_MISMATCH",
    );
  });

  it("given no known-hosts entry for the node, then it is refused as unknown", async () => {
    const empty = dir.file("known_hosts_empty");
    writeFileSync(empty, `[${sshd.host}]:1 ${sshd.hostPublicKey}\n`);
    expect(await codeOf(sshExecutor({ ...sshTarget(), knownHostsFile: empty }))).toBe(
      "BG_ERR_SSH_HOST_KEY_UNKNOWN",
    );
  });

  it("given nothing listens on the port, then it fails as unreachable", async () => {
    const port = await freePort();
    const file = dir.file("known_hosts_unreachable");
    writeFileSync(file, `[${sshd.host}]:${port} ${sshd.hostPublicKey}\n`);
    expect(await codeOf(sshExecutor({ ...sshTarget(), port, knownHostsFile: file }))).toBe(
      "BG_ERR_SSH_UNREACHABLE",
    );
  });

  it("given a user the server does not accept the key for, then it fails as an auth error", async () => {
    expect(await codeOf(sshExecutor({ ...sshTarget(), user: "nobody-bluegreen-test" }))).toBe(
      "BG_ERR_SSH_AUTH",
    );
  });
});
