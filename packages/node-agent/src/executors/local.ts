import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { OutputBuffer } from "../output-buffer.ts";
import { type Executor, endedWithoutExit, KILL_GRACE_MS, StepEnd, settleOnce } from "./executor.ts";
import { groupAlive, signalGroup } from "./process-group.ts";

export interface LocalExecutorOptions {
  /** The environment steps inherit (default: the agent's own). */
  readonly baseEnv?: NodeJS.ProcessEnv;
  readonly killGraceMs?: number;
}

/** How long output may keep flowing after the step's process exited. */
const DRAIN_MS = 1_000;

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Runs each step as its own process group (`detached`), without a shell. A timeout or an
 * abort sends SIGTERM to the whole group, then SIGKILL after the grace period, so no child
 * the step started is left behind (programs that leave the group on purpose, daemons that
 * call setsid, are not the step's children any more and keep running).
 */
export function localExecutor(options: LocalExecutorOptions = {}): Executor {
  const baseEnv = options.baseEnv ?? process.env;
  const graceMs = options.killGraceMs ?? KILL_GRACE_MS;

  const run: Executor["run"] = (step) =>
    new Promise((resolve) => {
      const started = performance.now();
      const output = new OutputBuffer();
      const [program, ...args] = step.argv;
      const elapsed = () => Math.round(performance.now() - started);
      if (program === undefined)
        return resolve(endedWithoutExit(StepEnd.spawnFailed, 0, "", { reason: "empty command" }));
      if (step.signal?.aborted) return resolve(endedWithoutExit(StepEnd.aborted));
      if (!isDirectory(step.workdir)) {
        const reason = `workdir ${step.workdir} is not a directory`;
        return resolve(endedWithoutExit(StepEnd.spawnFailed, 0, "", { reason }));
      }
      const child = spawn(program, args, {
        cwd: step.workdir,
        env: { ...baseEnv, ...step.env },
        detached: true,
        shell: false,
        stdio: ["ignore", "pipe", "pipe"],
      });
      if (child.pid !== undefined) step.onSpawn?.({ pid: child.pid });
      child.stdout.on("data", (chunk: Buffer) => output.append(chunk));
      child.stderr.on("data", (chunk: Buffer) => output.append(chunk));

      let stopReason: typeof StepEnd.timedOut | typeof StepEnd.aborted | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      const kill = (reason: typeof StepEnd.timedOut | typeof StepEnd.aborted) => {
        if (stopReason !== undefined || child.pid === undefined) return;
        stopReason = reason;
        signalGroup(child.pid, "SIGTERM");
        killTimer = setTimeout(() => {
          if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
        }, graceMs);
      };
      const timer = setTimeout(() => kill(StepEnd.timedOut), Math.max(0, step.timeoutMs));
      const onAbort = () => kill(StepEnd.aborted);
      step.signal?.addEventListener("abort", onAbort, { once: true });

      const { finish } = settleOnce(resolve, () => {
        clearTimeout(timer);
        step.signal?.removeEventListener("abort", onAbort);
      });

      child.once("error", (error) => {
        clearTimeout(killTimer);
        finish(
          endedWithoutExit(StepEnd.spawnFailed, elapsed(), output.tail(), {
            reason: error.message,
          }),
        );
      });
      // Wait for "close" (pipes drained) after "exit", but not forever: a background
      // process that inherited the pipes must not hold the step open.
      child.once("exit", (code, signal) => {
        const pid = child.pid;
        const done = () => {
          clearTimeout(killTimer);
          finish({
            end: stopReason ?? StepEnd.exited,
            exitCode: code,
            signal,
            durationMs: elapsed(),
            outputTail: output.tail(),
          });
        };
        const afterDrain = () => {
          if (child.stdout.readableEnded && child.stderr.readableEnded) return done();
          const drain = setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
            done();
          }, DRAIN_MS);
          child.once("close", () => {
            clearTimeout(drain);
            done();
          });
        };
        // A stopped step's group may outlive its leader for a moment: wait until it is gone
        // (SIGKILL follows after the grace period), but never longer than that.
        if (stopReason !== undefined && pid !== undefined && groupAlive(pid)) {
          const giveUp = Date.now() + graceMs + 1_000;
          const poll = setInterval(() => {
            if (!groupAlive(pid) || Date.now() > giveUp) {
              clearInterval(poll);
              afterDrain();
            }
          }, 50);
        } else {
          afterDrain();
        }
      });
    });

  return { kind: "local", run, close: async () => undefined };
}
