import { httpCall, type HttpAnswer as RawAnswer, UNREACHABLE_CODES } from "@bluegreen/runtime";
import type { SourceFailure } from "../measurement.ts";

/**
 * One HTTP GET with a deadline (the runtime's `httpCall`), its failure sorted into what the
 * verdict needs: no answer (`unreachable`), a late answer (`timeout`), or anything else
 * (`error`: a redirect, an answer over the size cap, a broken answer). Never throws.
 */

export type HttpAnswer =
  | { readonly ok: true; readonly status: number; readonly body: string }
  | { readonly ok: false; readonly reason: SourceFailure; readonly detail: string };

export interface HttpGetOptions {
  readonly timeoutMs: number;
  /** Sent as given; never logged, never put in a detail. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The largest answer read (a Prometheus answer or a node's /metrics page). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Sorts a failed call: nothing listens / the way is broken, no answer in time, or else. */
export function classifyFailure(
  failure: Extract<RawAnswer, { kind: "error" }>,
  where: string,
): { reason: SourceFailure; detail: string } {
  if (failure.timedOut) return { reason: "timeout", detail: failure.reason };
  const detail = `${failure.reason} (${where})`.slice(0, 512);
  if (failure.code !== undefined && UNREACHABLE_CODES.has(failure.code))
    return { reason: "unreachable", detail };
  return { reason: "error", detail };
}

export async function httpGet(url: string, opts: HttpGetOptions): Promise<HttpAnswer> {
  const target = new URL(url);
  const answer = await httpCall({
    url: target,
    headers: { accept: "application/json, text/plain;q=0.9, */*;q=0.1", ...opts.headers },
    timeoutMs: opts.timeoutMs,
    maxBodyBytes: MAX_BODY_BYTES,
  });
  if (answer.kind === "error") return { ok: false, ...classifyFailure(answer, target.host) };
  if (REDIRECTS.has(answer.status) && answer.headers.location !== undefined) {
    return {
      ok: false,
      reason: "error",
      detail: `unexpected redirect (HTTP ${answer.status} from ${target.host})`,
    };
  }
  if (answer.truncated) {
    return {
      ok: false,
      reason: "error",
      detail: `answer of more than ${MAX_BODY_BYTES} bytes is too large`,
    };
  }
  return { ok: true, status: answer.status, body: answer.body };
}
