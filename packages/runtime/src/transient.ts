import { sleep } from "./sleep.ts";

/**
 * NATS errors that another try a moment later can fix: the server restarting (the request
 * timed out or nobody answered), a JetStream cluster electing a new leader after losing a node
 * (503 "no responders" for a few seconds), a lost connection.
 */
const TRANSIENT_CODES: readonly string[] = [
  "TIMEOUT",
  "503",
  "408",
  "DISCONNECT",
  "CONNECTION_REFUSED",
];

export function isTransientNatsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && TRANSIENT_CODES.includes(code);
}

export interface RetryTransientOptions {
  /** Give up (throw the last error) once this long has passed since the first attempt. */
  forMs: number;
  /** Told about each failed attempt that will be tried again. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Runs `fn`, and again after a transient NATS error (250 ms, doubling to 2 s) until `forMs`
 * has passed. Any other error is thrown at once. `fn` gets the attempt number (1, 2, …): an
 * attempt after the first may find that an earlier one did its work and only lost the answer.
 */
export async function retryTransient<T>(
  fn: (attempt: number) => Promise<T>,
  opts: RetryTransientOptions,
): Promise<T> {
  const now = opts.now ?? Date.now;
  const wait = opts.sleep ?? sleep;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const delayMs = Math.min(2_000, 250 * 2 ** (attempt - 1));
      if (!isTransientNatsError(err) || now() + delayMs - started > opts.forMs) throw err;
      opts.onRetry?.(err, attempt, delayMs);
      await wait(delayMs);
    }
  }
}
