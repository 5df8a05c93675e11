/**
 * The one abortable sleep: resolves after `ms`, or at once when `signal` aborts (it never
 * rejects, so a loop checks its own signal after waking).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Sleeps until the instant `at` (ms since the epoch by `now`), or until `signal` aborts. */
export function sleepUntil(at: number, signal?: AbortSignal, now: () => number = Date.now) {
  return sleep(at - now(), signal);
}
