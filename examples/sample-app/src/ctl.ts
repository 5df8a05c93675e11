// `bluegreen-sample-app-ctl`: stop, re-version and start the sample app in a work dir, so a
// deploy can be a list of argv arrays run without a shell:
//   [bluegreen-sample-app-ctl, stop, --dir, D]
//   [bluegreen-sample-app-ctl, set-version, --dir, D, "${version}"]
//   [bluegreen-sample-app-ctl, start, --dir, D, --port, "8000", --color, green]
// Files in D: VERSION, app.pid, app.log. Prints one JSON line on success.
// Exit codes: 0 done, 1 failed, 2 usage error, 3 `status` when not running.

import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { CTL_USAGE, type CtlCommand, parseCtlArgs } from "./ctl-args.ts";
import { versionProblem } from "./version.ts";

const APP_BIN = fileURLToPath(new URL("../bin/sample-app.js", import.meta.url));

class CtlError extends Error {
  override name = "CtlError";
}

const files = (dir: string) => ({
  version: join(dir, "VERSION"),
  pid: join(dir, "app.pid"),
  log: join(dir, "app.log"),
});

function writeAtomically(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

function readVersion(dir: string): string | undefined {
  const path = files(dir).version;
  if (!existsSync(path)) return undefined;
  const version = readFileSync(path, "utf8").trim();
  const problem = versionProblem(version);
  if (problem !== undefined) throw new CtlError(`${path}: ${problem}`);
  return version;
}

function readPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(files(dir).pid, "utf8").trim());
    return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie (an orphaned app is reaped by init, which may take a moment). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/** Guards against a stale pidfile whose pid now belongs to another program. */
function isSampleApp(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("sample-app");
  } catch {
    return true;
  }
}

function runningPid(dir: string): number | undefined {
  const pid = readPid(dir);
  return pid !== undefined && isAlive(pid) && isSampleApp(pid) ? pid : undefined;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
      return;
    } catch {
      // not a group leader, or gone already
    }
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

function logTail(path: string, from: number, lines = 30): string {
  try {
    const text = readFileSync(path).subarray(from).toString("utf8");
    return text
      .split("\n")
      .slice(-lines - 1)
      .join("\n")
      .trimEnd();
  } catch {
    return "(no log)";
  }
}

function findListening(path: string, from: number, pid: number): { port: number } | undefined {
  let text: string;
  try {
    text = readFileSync(path).subarray(from).toString("utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; pid?: unknown; port?: unknown };
      if (entry.msg === "listening" && entry.pid === pid && typeof entry.port === "number") {
        return { port: entry.port };
      }
    } catch {
      // a partial line; read again on the next poll
    }
  }
  return undefined;
}

async function start(cmd: Extract<CtlCommand, { kind: "start" }>): Promise<unknown> {
  const paths = files(cmd.dir);
  const version = readVersion(cmd.dir);
  if (version === undefined)
    throw new CtlError(`${paths.version} not found; run set-version first`);
  const running = runningPid(cmd.dir);
  if (running !== undefined) throw new CtlError(`already running (pid ${running}); stop it first`);

  const logStart = existsSync(paths.log) ? statSync(paths.log).size : 0;
  const logFd = openSync(paths.log, "a");
  const args = ["--host", cmd.host, "--port", String(cmd.port), "--color", cmd.color];
  const child = spawn(process.execPath, [APP_BIN, ...args, "--version", version], {
    cwd: cmd.dir,
    detached: true,
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd);
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = signal === null ? `exit code ${code}` : `signal ${signal}`;
  });
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const pid = child.pid;
  if (pid === undefined)
    throw new CtlError(`cannot start ${APP_BIN}: ${(await spawnError).message}`);
  writeAtomically(paths.pid, `${pid}\n`);

  const deadline = Date.now() + cmd.timeoutMs;
  for (;;) {
    const listening = findListening(paths.log, logStart, pid);
    if (listening !== undefined) {
      child.unref();
      return {
        ok: true,
        command: "start",
        pid,
        host: cmd.host,
        port: listening.port,
        version,
        color: cmd.color,
      };
    }
    if (exited !== undefined || Date.now() >= deadline) {
      signalGroup(pid, "SIGKILL");
      rmSync(paths.pid, { force: true });
      const why =
        exited !== undefined
          ? `the app exited (${exited}) before listening`
          : `the app did not listen on ${cmd.host}:${cmd.port} within ${cmd.timeoutMs} ms`;
      throw new CtlError(`${why}; last lines of ${paths.log}:\n${logTail(paths.log, logStart)}`);
    }
    await sleep(50);
  }
}

async function stop(cmd: Extract<CtlCommand, { kind: "stop" }>): Promise<unknown> {
  const pidPath = files(cmd.dir).pid;
  const pid = runningPid(cmd.dir);
  if (pid === undefined) {
    rmSync(pidPath, { force: true });
    return { ok: true, command: "stop", wasRunning: false };
  }
  signalGroup(pid, "SIGTERM");
  let forced = false;
  if (!(await waitForExit(pid, cmd.timeoutMs))) {
    forced = true;
    signalGroup(pid, "SIGKILL");
    if (!(await waitForExit(pid, 2_000))) throw new CtlError(`pid ${pid} survived SIGKILL`);
  }
  rmSync(pidPath, { force: true });
  return { ok: true, command: "stop", wasRunning: true, pid, forced };
}

function setVersion(cmd: Extract<CtlCommand, { kind: "set-version" }>): unknown {
  mkdirSync(cmd.dir, { recursive: true });
  writeAtomically(files(cmd.dir).version, `${cmd.version}\n`);
  return { ok: true, command: "set-version", version: cmd.version };
}

interface StatusResult {
  readonly running: boolean;
  readonly pid: number | null;
  readonly version: string | null;
  readonly dir: string;
}

function status(cmd: Extract<CtlCommand, { kind: "status" }>): StatusResult {
  const pid = runningPid(cmd.dir);
  let version: string | null = null;
  try {
    version = readVersion(cmd.dir) ?? null;
  } catch {
    version = null;
  }
  return { running: pid !== undefined, pid: pid ?? null, version, dir: cmd.dir };
}

async function main(argv: readonly string[]): Promise<number> {
  const cmd = parseCtlArgs(argv);
  switch (cmd.kind) {
    case "help":
      process.stdout.write(`${CTL_USAGE}\n`);
      return 0;
    case "usage-error":
      process.stderr.write(`bluegreen-sample-app-ctl: ${cmd.message}\n${CTL_USAGE}\n`);
      return 2;
    case "status": {
      const result = status(cmd);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return result.running ? 0 : 3;
    }
  }
  const result =
    cmd.kind === "start"
      ? await start(cmd)
      : cmd.kind === "stop"
        ? await stop(cmd)
        : setVersion(cmd);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const message =
    error instanceof CtlError ? error.message : String((error as Error).stack ?? error);
  process.stderr.write(`bluegreen-sample-app-ctl: ${message}\n`);
  process.exitCode = 1;
}
