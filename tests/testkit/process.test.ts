import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  Binaries,
  findBinary,
  isProcessAlive,
  makeTempDir,
  OutputTail,
  processGroupMembers,
  runCommand,
  spawnProcess,
  waitFor,
} from "@bluegreen/testkit";
import { describe, expect, it } from "vitest";

describe("findBinary", () => {
  it("names the Debian package when a binary is missing", () => {
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      expect(() => findBinary({ ...Binaries.natsServer, knownPaths: [] })).toThrow(
        "nats-server not found on PATH (install the Debian package nats-server, or run npm run setup)",
      );
      // Debian puts daemons in /usr/sbin, which may not be on PATH.
      expect(findBinary(Binaries.nginx)).toBe("/usr/sbin/nginx");
    } finally {
      process.env.PATH = path;
    }
  });
});

describe("OutputTail", () => {
  it("keeps only the last characters", () => {
    const tail = new OutputTail(10);
    tail.append("0123456789");
    tail.append("abcde");
    expect(tail.text()).toBe("56789abcde");
    tail.append("x".repeat(25));
    expect(tail.text()).toBe("x".repeat(10));
    expect(tail.lastLines(1)).toBe(`[...]\n${"x".repeat(10)}`);
  });
});

describe("spawnProcess", () => {
  it("stops the whole process group, SIGKILLing what ignores SIGTERM", async () => {
    const proc = await spawnProcess({
      name: "stubborn",
      command: "/bin/sh",
      args: ["-c", "trap '' TERM; sleep 30 & sleep 30 & echo started; wait"],
    });
    await proc.waitForLine(/started/, { what: "the start line", timeoutMs: 5_000 });
    expect(processGroupMembers(proc.pid).length).toBe(3);
    const started = Date.now();
    const exit = await proc.stop({ timeoutMs: 300 });
    expect(exit.signal).toBe("SIGKILL");
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(processGroupMembers(proc.pid)).toEqual([]);
  });

  it("fails a wait at once, with the output, when the process exits", async () => {
    const proc = await spawnProcess({
      name: "crasher",
      command: "/bin/sh",
      args: ["-c", "echo 'bad config line 3' >&2; exit 3"],
    });
    const error = await waitFor(() => undefined, {
      what: "something that never comes",
      timeoutMs: 10_000,
      process: proc,
    }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /crasher exited with code 3 while waiting for something that never comes[\s\S]*bad config line 3/,
    );
  });

  it("says what it waited for and how long on a timeout", async () => {
    await expect(waitFor(() => undefined, { what: "the moon", timeoutMs: 100 })).rejects.toThrow(
      "timed out after 100 ms waiting for the moon",
    );
  });

  it.each(["exit", "SIGTERM"])(
    "kills its children and removes its temp dirs when the test process ends (%s)",
    async (how) => {
      const dir = await makeTempDir("registry");
      try {
        const processTs = fileURLToPath(
          new URL("../../packages/testkit/src/process.ts", import.meta.url),
        );
        const tmpTs = fileURLToPath(new URL("../../packages/testkit/src/tmp.ts", import.meta.url));
        const script = dir.file("script.mts");
        writeFileSync(
          script,
          `import { spawnProcess } from ${JSON.stringify(processTs)};
import { makeTempDir } from ${JSON.stringify(tmpTs)};
const child = await spawnProcess({ name: "sleeper", command: "/bin/sh", args: ["-c", "sleep 30 & sleep 30"] });
const dir = await makeTempDir("registry-child");
console.log(JSON.stringify({ pid: child.pid, dir: dir.path }));
${how === "exit" ? "setTimeout(() => process.exit(0), 500);" : "setInterval(() => {}, 1000);"}
`,
        );
        const runner = await spawnProcess({
          name: "runner",
          command: process.execPath,
          args: ["--import", "tsx", script],
          cwd: fileURLToPath(new URL("../..", import.meta.url)),
        });
        const line = await runner.waitForLine(/^\{"pid"/, {
          what: "the child's pid",
          timeoutMs: 10_000,
        });
        const { pid: childPid, dir: childDir } = JSON.parse(line) as { pid: number; dir: string };
        expect(isProcessAlive(childPid)).toBe(true);
        expect(existsSync(childDir)).toBe(true);
        if (how === "SIGTERM") runner.signal("SIGTERM", { group: false });
        const exit = await runner.exited;
        expect(how === "SIGTERM" ? exit.signal : exit.code).toBe(how === "SIGTERM" ? "SIGTERM" : 0);
        await waitFor(() => (processGroupMembers(childPid).length === 0 ? true : undefined), {
          what: "the orphaned group to be killed",
          timeoutMs: 2_000,
        });
        expect(existsSync(childDir)).toBe(false);
        await runner.stop();
      } finally {
        await dir.remove();
      }
    },
  );
});

describe("makeTempDir", () => {
  it("is removed at the end of an `await using` block", async () => {
    let path = "";
    {
      await using dir = await makeTempDir("using");
      path = dir.path;
      expect(path).toMatch(/\/bluegreen-test-using-\w+$/);
      expect(existsSync(path)).toBe(true);
    }
    expect(existsSync(path)).toBe(false);
  });
});

describe("runCommand", () => {
  it("returns the exit code and output", async () => {
    expect(await runCommand("/bin/sh", ["-c", "echo out; echo err >&2; exit 4"])).toEqual({
      code: 4,
      signal: null,
      stdout: "out\n",
      stderr: "err\n",
    });
  });
});
