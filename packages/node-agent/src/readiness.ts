import type { ServiceDefinition } from "@bluegreen/contracts";
import { httpCall, nodeUrl, sleep } from "@bluegreen/runtime";
import { describeAnswer, MAX_BODY_BYTES } from "./smoke/verdict.ts";

export interface ReadinessResult {
  readonly ready: boolean;
  readonly attempts: number;
  readonly durationMs: number;
  /** What the node said last (or why it said nothing); absent only if never asked. */
  readonly lastAnswer: string | undefined;
  readonly aborted: boolean;
}

export interface ReadinessOptions {
  readonly node: { host: string; port: number };
  readonly readiness: ServiceDefinition["readiness"];
  readonly signal?: AbortSignal | undefined;
  /** Called after each attempt (logs). */
  readonly onAttempt?: (attempt: number, answer: string, ready: boolean) => void;
}

/**
 * Polls the node's readiness path every `interval` until it answers `expect_status` or the
 * `timeout` deadline passes. Never a fixed sleep: a node that is ready at once is ready after
 * one request. Each request is bounded by what is left of the deadline.
 */
export async function waitForReady(opts: ReadinessOptions): Promise<ReadinessResult> {
  const { readiness, signal } = opts;
  const started = performance.now();
  const deadline = started + readiness.timeout;
  const url = nodeUrl(opts.node, readiness.path);
  let attempts = 0;
  let lastAnswer: string | undefined;
  const result = (ready: boolean): ReadinessResult => ({
    ready,
    attempts,
    durationMs: Math.round(performance.now() - started),
    lastAnswer,
    aborted: signal?.aborted === true,
  });
  for (;;) {
    if (signal?.aborted) return result(false);
    const attemptStarted = performance.now();
    const remaining = deadline - attemptStarted;
    const fullTimeoutMs = Math.max(readiness.interval, 2_000);
    const timeoutMs = Math.max(1, Math.min(remaining, fullTimeoutMs));
    attempts++;
    const answer = await httpCall({ url, timeoutMs, signal, maxBodyBytes: MAX_BODY_BYTES });
    // A last attempt cut short by the deadline says nothing about the node ("no answer within
    // 3 ms"): the answer before it stays the one reported.
    const cutShort = answer.kind === "error" && answer.timedOut && timeoutMs < fullTimeoutMs;
    if (!cutShort || lastAnswer === undefined) lastAnswer = describeAnswer(answer);
    const ready = answer.kind === "response" && answer.status === readiness.expect_status;
    opts.onAttempt?.(attempts, lastAnswer, ready);
    if (ready) return result(true);
    const next = attemptStarted + readiness.interval;
    if (next >= deadline || performance.now() >= deadline) return result(false);
    await sleep(next - performance.now(), signal);
  }
}
