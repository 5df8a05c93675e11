// Hooks the suites under tests/ share.
import { afterAll, beforeAll } from "vitest";

interface Stoppable {
  stop(): Promise<unknown>;
}

/**
 * Starts a handle before the suite's tests and stops it after them; `use` receives it once
 * started (the suite keeps it in its own variable). `stop` defaults to the handle's own;
 * `timeoutMs` bounds the start (default: the hook timeout).
 */
export function startedForSuite<T extends Stoppable>(
  start: () => Promise<T>,
  use: (handle: T) => void,
): void;
export function startedForSuite<T>(
  start: () => Promise<T>,
  use: (handle: T) => void,
  stop: (handle: T) => Promise<unknown>,
  timeoutMs?: number,
): void;
export function startedForSuite<T>(
  start: () => Promise<T>,
  use: (handle: T) => void,
  stop: (handle: T) => Promise<unknown> = (handle) => (handle as Stoppable).stop(),
  timeoutMs?: number,
): void {
  let handle: T | undefined;
  beforeAll(async () => {
    handle = await start();
    use(handle);
  }, timeoutMs);
  afterAll(async () => {
    if (handle !== undefined) await stop(handle);
  }, 60_000);
}
