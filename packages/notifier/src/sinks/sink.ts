import type { HttpAnswer } from "@bluegreen/runtime";
import type { SendAnswer } from "../decide.ts";

/** A place notifications go: sends one event, says how it went. Never throws. */
export interface Sink {
  readonly name: string;
  readonly type: "webhook" | "slack" | "email";
  /** At most this many sends per second, and this many at once. */
  readonly ratePerSecond: number;
  readonly concurrency: number;
  send(cloudEvent: unknown): Promise<SendAnswer>;
  close?(): void;
}

/**
 * An HTTP answer, classified: 2xx delivered; 429 and 408 retried (after Retry-After when
 * given); any other 4xx final (the request itself is wrong: retrying cannot help); 5xx,
 * timeouts and connection failures retried.
 */
export function classifyHttp(answer: HttpAnswer): SendAnswer {
  if (answer.kind === "error")
    return { outcome: "retry", result: answer.timedOut ? "timed out" : answer.reason };
  const { status } = answer;
  const result = `HTTP ${status}`;
  if (status >= 200 && status < 300) return { outcome: "ok", result };
  if (status === 429 || status === 408) {
    const after = Number(answer.headers["retry-after"]);
    const retryAfterMs =
      Number.isFinite(after) && after >= 0 ? Math.min(after, 3600) * 1000 : undefined;
    return { outcome: "retry", result, retryAfterMs };
  }
  if (status >= 400 && status < 500) return { outcome: "final", result };
  return { outcome: "retry", result };
}
