import type { Logger } from "./logger.ts";

export interface ShutdownOptions {
  /** Longest the shutdown may take before the process exits with code 1. Default 15 s. */
  timeoutMs?: number;
  logger?: Logger;
  /** Replaced in tests; `process.exit` otherwise. */
  exit?: (code: number) => void;
}

export const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"];

export interface ShutdownHandle {
  /** Runs the shutdown as if a signal had arrived (once; later calls return the same promise). */
  trigger(reason: string): Promise<number>;
  /** Removes the signal handlers. */
  dispose(): void;
}

/**
 * On the first of `signals` (usually SIGTERM, SIGINT) runs `fn` once — drain consumers, stop the
 * heartbeat, close HTTP, drain NATS — then exits 0; exits 1 when `fn` throws or outlasts
 * `timeoutMs`. A second signal while shutting down is logged and otherwise ignored.
 */
export function installShutdown(
  signals: readonly NodeJS.Signals[],
  fn: (reason: string) => Promise<void>,
  opts: ShutdownOptions = {},
): ShutdownHandle {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let running: Promise<number> | undefined;

  const run = async (reason: string): Promise<number> => {
    opts.logger?.info({ reason, timeoutMs }, "shutting down");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        opts.logger?.error({ timeoutMs }, "shutdown took too long; exiting");
        resolve(1);
      }, timeoutMs);
      timer.unref();
    });
    const done = fn(reason).then(
      () => 0,
      (err: unknown) => {
        opts.logger?.error({ err }, "shutdown failed");
        return 1;
      },
    );
    const code = await Promise.race([done, timedOut]);
    clearTimeout(timer);
    if (code === 0) opts.logger?.info("shutdown complete");
    opts.logger?.flush?.();
    exit(code);
    return code;
  };

  const trigger = (reason: string): Promise<number> => {
    if (running !== undefined) {
      opts.logger?.warn({ reason }, "already shutting down");
      return running;
    }
    running = run(reason);
    return running;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    trigger(signal).catch(() => exit(1));
  };
  for (const signal of signals) process.on(signal, onSignal);

  return {
    trigger,
    dispose: () => {
      for (const signal of signals) process.off(signal, onSignal);
    },
  };
}
