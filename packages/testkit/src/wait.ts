// Waiting for a test server: poll until a probe answers, failing early (with the process's
// output) when the process being waited for exits.

import { setTimeout as sleep } from "node:timers/promises";
import { TestSupportError } from "./binaries.ts";
import type { ManagedProcess } from "./process.ts";

export interface WaitOptions {
  /** What is awaited, for the message: "the nats-server ports file". */
  readonly what: string;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Fail at once (with its output) if this process exits while waiting. */
  readonly process?: ManagedProcess;
}

/**
 * Polls `probe` until it returns something other than undefined. A probe that throws counts
 * as "not yet"; its last error is quoted if the deadline passes.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: WaitOptions,
): Promise<T> {
  const started = Date.now();
  const interval = options.intervalMs ?? 50;
  let lastError: unknown;
  for (;;) {
    const proc = options.process;
    if (proc !== undefined && !proc.running) {
      throw proc.failure(`${proc.name} ${proc.describeExit()} while waiting for ${options.what}`);
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= options.timeoutMs) {
      const last =
        lastError === undefined
          ? ""
          : ` (last error: ${(lastError as Error).message ?? lastError})`;
      const message = `timed out after ${options.timeoutMs} ms waiting for ${options.what}${last}`;
      throw proc !== undefined
        ? proc.failure(message, lastError)
        : new TestSupportError(message, { cause: lastError });
    }
    const pause = sleep(Math.min(interval, options.timeoutMs - elapsed));
    await (proc === undefined ? pause : Promise.race([pause, proc.exited]));
  }
}

/** GET `url` with a per-request timeout; undefined when it cannot connect. */
export async function httpGet(
  url: string,
  timeoutMs = 2_000,
): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined;
  }
}
