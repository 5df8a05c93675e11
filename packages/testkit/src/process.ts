// Child processes for test servers: spawn each in its own process group, keep a bounded tail
// of its output for failure messages, and make sure nothing outlives the test run (a registry
// kills every still-running child on exit, SIGINT and SIGTERM).

import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { isMainThread } from "node:worker_threads";
import { TestSupportError } from "./binaries.ts";

// ---------------------------------------------------------------------------------------
// Output tail

/** The last `maxChars` characters a process wrote (stdout and stderr interleaved). */
export class OutputTail {
  #chunks: string[] = [];
  #size = 0;
  #dropped = 0;

  constructor(readonly maxChars = 64 * 1024) {}

  append(text: string): void {
    this.#chunks.push(text);
    this.#size += text.length;
    while (this.#size > this.maxChars && this.#chunks.length > 0) {
      const first = this.#chunks[0] as string;
      const excess = this.#size - this.maxChars;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#size -= first.length;
        this.#dropped += first.length;
      } else {
        this.#chunks[0] = first.slice(excess);
        this.#size -= excess;
        this.#dropped += excess;
      }
    }
  }

  text(): string {
    return this.#chunks.join("");
  }

  /** The last `count` lines, marked when earlier output was dropped. */
  lastLines(count = 40): string {
    const lines = this.text().trimEnd().split("\n");
    const shown = lines.slice(-count);
    const hidden = lines.length - shown.length > 0 || this.#dropped > 0;
    return `${hidden ? "[...]\n" : ""}${shown.join("\n")}`;
  }
}

// ---------------------------------------------------------------------------------------
// /proc helpers (Linux): a process that has exited but is not yet reaped (a zombie, e.g. an
// orphaned nginx worker waiting for init) counts as gone.

interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return {
      pid,
      state: fields[0] ?? "?",
      ppid: Number(fields[1]),
      pgrp: Number(fields[2]),
      session: Number(fields[3]),
    };
  } catch {
    return undefined;
  }
}

function allProcesses(): ProcStat[] | undefined {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return undefined;
  }
  const stats: ProcStat[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== undefined) stats.push(stat);
  }
  return stats;
}

/** True when `pid` exists and has not exited (zombies count as exited). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = readStat(pid);
  return stat === undefined ? !existsProcDir() : stat.state !== "Z";
}

function existsProcDir(): boolean {
  try {
    readdirSync("/proc/self");
    return true;
  } catch {
    return false;
  }
}

/** Live members of a process group (the leader's pid is the group id). */
export function processGroupMembers(pgid: number): number[] {
  const all = allProcesses();
  if (all === undefined) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  return all.filter((p) => p.pgrp === pgid && p.state !== "Z").map((p) => p.pid);
}

/** Live descendants of `pid` (children, grandchildren, ...), e.g. sshd session processes. */
export function descendantPids(pid: number): number[] {
  const all = allProcesses() ?? [];
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next = all.filter((p) => frontier.includes(p.ppid) && p.state !== "Z").map((p) => p.pid);
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** Live processes whose environment has `name=value` (inherited by everything they start). */
export function pidsWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}`;
  const found: number[] = [];
  for (const p of allProcesses() ?? []) {
    if (p.state === "Z" || p.pid === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${p.pid}/environ`, "utf8").split("\0");
      if (environ.includes(needle)) found.push(p.pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** SIGKILLs `find()`'s processes until none is left (3 s at most). */
export async function killAll(find: () => number[], what: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  for (let remaining = find(); remaining.length > 0; remaining = find()) {
    for (const pid of remaining) trySignal(pid, "SIGKILL");
    if (Date.now() > deadline) {
      throw new TestSupportError(`${what} (${remaining.join(", ")}) survived SIGKILL`);
    }
    await sleep(20);
  }
}

function trySignal(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------
// Registry: every child still running when this process exits (or gets SIGINT/SIGTERM) is
// killed with its group; then the registered clean-ups run.

const live = new Set<ManagedProcess>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const child of live) {
    trySignal(-child.pid, "SIGKILL");
    trySignal(child.pid, "SIGKILL");
  }
  live.clear();
}

const exitCleanups: (() => void)[] = [];

function cleanUpNow(): void {
  killAllNow();
  for (const cleanup of exitCleanups) {
    try {
      cleanup();
    } catch {
      // best effort: the process is going away
    }
  }
}

/**
 * Runs `cleanup` (synchronously) when this process exits or gets SIGINT/SIGTERM, after every
 * child has been killed. Temp dirs use it.
 */
export function onExitCleanup(cleanup: () => void): void {
  installHooks();
  exitCleanups.push(cleanup);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", cleanUpNow);
  if (!isMainThread) return; // signals are only delivered to the main thread
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const onSignal = () => {
      cleanUpNow();
      process.off(signal, onSignal);
      // Nobody else handles it: keep the default behaviour (terminate) by raising it again.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Children started through `spawnProcess` that have not been stopped yet. */
export function runningProcesses(): readonly ManagedProcess[] {
  return [...live];
}

// ---------------------------------------------------------------------------------------
// Managed process

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpawnProcessOptions {
  /** Used in messages: "nats-server exited with code 1 while waiting for ...". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Characters of output kept for failure messages (default 64 KiB). */
  readonly tailChars?: number;
}

export interface StopOptions {
  /** Default SIGTERM. */
  readonly signal?: NodeJS.Signals;
  /** Signal the whole process group (default) or only the leader (e.g. nginx's master). */
  readonly group?: boolean;
  /** Then SIGKILL to the group (default 5000 ms). */
  readonly timeoutMs?: number;
}

type LineListener = (line: string, stream: "stdout" | "stderr") => void;

export class ManagedProcess {
  readonly output: OutputTail;
  readonly exited: Promise<ExitInfo>;
  #exit: ExitInfo | undefined;
  readonly #listeners = new Set<LineListener>();

  constructor(
    readonly name: string,
    readonly pid: number,
    /** The argv, for messages. */
    readonly argv: readonly string[],
    child: ChildProcess,
    tailChars: number,
  ) {
    this.output = new OutputTail(tailChars);
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        live.delete(this);
        resolve(this.#exit);
      });
    });
    for (const stream of ["stdout", "stderr"] as const) {
      let partial = "";
      child[stream]?.setEncoding("utf8");
      child[stream]?.on("data", (chunk: string) => {
        this.output.append(chunk);
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) for (const listener of this.#listeners) listener(line, stream);
      });
    }
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  describeExit(): string {
    const exit = this.#exit;
    if (exit === undefined) return "is running";
    return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  }

  /** An error whose message ends with the process' recent output. */
  failure(message: string, cause?: unknown): TestSupportError {
    const tail = this.output.lastLines(40);
    return new TestSupportError(
      `${message}\n  command: ${this.argv.join(" ")}\n--- last output of ${this.name} (pid ${this.pid}) ---\n${tail || "(no output)"}`,
      cause === undefined ? undefined : { cause },
    );
  }

  onLine(listener: LineListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sends a signal to the process group (default) or to the leader only. */
  signal(signal: NodeJS.Signals, options: { group?: boolean } = {}): void {
    if (this.#exit !== undefined) return;
    if (options.group ?? true) {
      if (!trySignal(-this.pid, signal)) trySignal(this.pid, signal);
    } else trySignal(this.pid, signal);
  }

  /**
   * Signals, waits for the exit, SIGKILLs the group after the timeout, then kills anything left
   * in the group or below it (workers, sessions). Safe to call twice.
   */
  async stop(options: StopOptions = {}): Promise<ExitInfo> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const tree = this.running ? descendantPids(this.pid) : [];
    this.signal(options.signal ?? "SIGTERM", { group: options.group ?? true });
    let exit = await withTimeout(this.exited, timeoutMs);
    if (exit === undefined) {
      this.signal("SIGKILL");
      exit = await withTimeout(this.exited, 5_000);
      if (exit === undefined) throw this.failure(`${this.name} survived SIGKILL for 5000 ms`);
    }
    await sweep(this.pid, tree);
    live.delete(this);
    return exit;
  }

  /** Resolves with the first output line that matches; fails when the process exits first. */
  waitForLine(
    match: RegExp | ((line: string) => boolean),
    options: { what: string; timeoutMs: number },
  ): Promise<string> {
    const test = typeof match === "function" ? match : (line: string) => match.test(line);
    return new Promise((resolve, reject) => {
      const finish = (action: () => void) => {
        clearTimeout(timer);
        off();
        action();
      };
      const off = this.onLine((line) => {
        if (test(line)) finish(() => resolve(line));
      });
      const timer = setTimeout(() => {
        finish(() =>
          reject(
            this.failure(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`),
          ),
        );
      }, options.timeoutMs);
      this.exited.then(() => {
        finish(() =>
          reject(this.failure(`${this.name} ${this.describeExit()} before ${options.what}`)),
        );
      }, reject);
    });
  }
}

/** Live processes whose session was started by one of `leaders` (sshd sessions call setsid). */
function sessionMembers(leaders: readonly number[]): number[] {
  return (allProcesses() ?? [])
    .filter((p) => leaders.includes(p.session) && p.state !== "Z")
    .map((p) => p.pid);
}

/**
 * Kills what is left of a stopped process: its group, the descendants it had, and anything in
 * a session one of them started (orphans re-parented to init escape the descendant tree).
 */
async function sweep(pgid: number, tree: readonly number[]): Promise<void> {
  const leaders = [pgid, ...tree];
  const leftovers = () => [
    ...new Set([
      ...processGroupMembers(pgid),
      ...tree.filter((pid) => isProcessAlive(pid)),
      ...sessionMembers(leaders),
    ]),
  ];
  await killAll(leftovers, `processes left by ${pgid}`);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Spawns `command` detached (its own process group, so stop() reaches every process it
 * forks), with stdout and stderr piped into the output tail. Registered for kill-on-exit.
 */
export async function spawnProcess(options: SpawnProcessOptions): Promise<ManagedProcess> {
  installHooks();
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (error) =>
      reject(
        new TestSupportError(
          `cannot start ${options.name} (${options.command}): ${error.message}`,
          { cause: error },
        ),
      ),
    );
  });
  const managed = new ManagedProcess(
    options.name,
    child.pid as number,
    [options.command, ...options.args],
    child,
    options.tailChars ?? 64 * 1024,
  );
  live.add(managed);
  return managed;
}

/** Runs a command to completion (e.g. `nginx -t`, `ssh-keygen`) and returns its output. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: {
    cwd?: string;
    timeoutMs?: number;
    input?: string;
    env?: NodeJS.ProcessEnv;
    /** Called with all the standard output so far, each time more arrives. */
    onStdout?: (stdout: string) => void;
  } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const input = options.input;
  const child = spawn(command, [...args], {
    cwd: options.cwd,
    ...(options.env === undefined ? {} : { env: options.env }),
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    options.onStdout?.(stdout);
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  if (input !== undefined) {
    child.stdin?.on("error", () => {}); // EPIPE when the command exits without reading
    child.stdin?.end(input);
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 15_000);
  try {
    return await new Promise((resolve, reject) => {
      child.once("error", (error) =>
        reject(new TestSupportError(`cannot run ${command}: ${error.message}`, { cause: error })),
      );
      child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  } finally {
    clearTimeout(timer);
  }
}
