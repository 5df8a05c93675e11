// The two executors over real processes: local child processes, and a real sshd.
import { readFileSync, writeFileSync } from "node:fs";
import { BgError } from "@bluegreen/contracts";
import { type Executor, localExecutor, type Spawned, StepEnd } from "@bluegreen/node-agent";
import {
  endGroup,
  type RunningStep,
  sshExecutor,
  sshGroupHost,
} from "@bluegreen/node-agent/internal";
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

describe("a step the agent left running on the node (its connection gone)", () => {
  /** Starts a hanging step over SSH, then drops the connection as a crashed agent would. */
  async function orphanedStep(name: string): Promise<{ note: RunningStep; pids: number[] }> {
    const pidFile = dir.file(`orphan-${name}`);
    writeFileSync(pidFile, "");
    const executor = await sshExecutor(sshTarget());
    let spawned: Spawned | undefined;
    const outcome = executor.run({
      argv: hangingStep(pidFile),
      workdir: dir.path,
      env: {},
      timeoutMs: 60_000,
      onSpawn: (s) => {
        spawned = s;
      },
    });
    await waitFor(() => (readFileSync(pidFile, "utf8").trim() !== "" ? true : undefined), {
      what: "the step to start",
      timeoutMs: 5_000,
    });
    await executor.close();
    expect((await outcome).end).toBe(StepEnd.connectionLost);
    if (spawned?.remote === undefined) throw new Error("the step did not announce itself");
    const pids = recordedPids(pidFile);
    const note: RunningStep = {
      service: "s",
      deploymentId: "d",
      node: "n",
      color: "green",
      version: "v",
      step: 1,
      steps: 1,
      command: ["sh"],
      pid: spawned.pid,
      bootId: spawned.remote.bootId,
      startTime: spawned.remote.startTime,
      ssh: { host: sshd.host, port: sshd.port, user: sshd.user },
      startedAt: new Date().toISOString(),
    };
    return { note, pids };
  }

  it("given the step announced itself (pid, boot id, start time), when the connection is gone, then it runs on, and a new connection ends its whole group", async () => {
    const { note, pids } = await orphanedStep("ended");
    // The step's shell is the announced pid (sshd and the tests share this host).
    expect(pids[0]).toBe(note.pid);
    expect(note.bootId).toBe(readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    expect(note.startTime).toMatch(/^\d+$/);
    expect(pids.every((p) => isProcessAlive(p))).toBe(true);
    const node = await sshGroupHost(sshTarget());
    try {
      expect(await node.look(note.pid)).toMatchObject({
        bootId: note.bootId,
        leader: { startTime: note.startTime },
        groupAlive: true,
      });
      expect(await endGroup(note, node, 500)).toBe("ended");
      await expectAllGone(pids);
      expect(await endGroup(note, node, 500)).toBe("gone");
    } finally {
      await node.close();
    }
  });

  it("given the noted start time is not the running process's (a reused pid), then nothing is signalled", async () => {
    const { note, pids } = await orphanedStep("reused");
    const node = await sshGroupHost(sshTarget());
    try {
      expect(await endGroup({ ...note, startTime: "1" }, node, 500)).toBe("gone");
      expect(pids.every((p) => isProcessAlive(p))).toBe(true);
      expect(await endGroup(note, node, 500)).toBe("ended");
      await expectAllGone(pids);
    } finally {
      await node.close();
    }
  });

  it("given nothing listens on the node's port, then connecting fails as unreachable, within the connect timeout", async () => {
    const port = await freePort();
    const file = dir.file("known_hosts_group_host");
    writeFileSync(file, `[${sshd.host}]:${port} ${sshd.hostPublicKey}\n`);
    const error = await sshGroupHost({ ...sshTarget(), port, knownHostsFile: file }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BgError);
    expect((error as BgError).code).toBe("BG_ERR_SSH_UNREACHABLE");
  });
});
