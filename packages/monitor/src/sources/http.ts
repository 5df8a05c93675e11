import type { SourceFailure } from "../measurement.ts";

/**
 * One HTTP GET with a deadline, its failure sorted into what the verdict needs: no answer
 * (`unreachable`), a late answer (`timeout`), or anything else (`error`). Never throws.
 */

export type HttpAnswer =
  | { readonly ok: true; readonly status: number; readonly body: string }
  | { readonly ok: false; readonly reason: SourceFailure; readonly detail: string };

export interface HttpGetOptions {
  readonly timeoutMs: number;
  /** Sent as given; never logged, never put in a detail. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Connection-level errors: the source is not there (as opposed to answering badly). */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

const MAX_BODY_CHARS = 16 * 1024 * 1024;

function describeError(err: unknown): { code?: string; message: string } {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  const cause = e?.cause as { code?: unknown; message?: unknown } | undefined;
  const code =
    typeof cause?.code === "string" ? cause.code : typeof e?.code === "string" ? e.code : undefined;
  const message =
    typeof cause?.message === "string" && cause.message !== ""
      ? cause.message
      : typeof e?.message === "string"
        ? e.message
        : String(err);
  return code === undefined ? { message } : { code, message };
}

export function classifyFailure(
  err: unknown,
  timeoutMs: number,
): { reason: SourceFailure; detail: string } {
  const name = (err as { name?: unknown })?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return { reason: "timeout", detail: `no answer within ${timeoutMs} ms` };
  }
  const { code, message } = describeError(err);
  if (code !== undefined && (UNREACHABLE_CODES.has(code) || code.startsWith("UND_ERR_CONNECT"))) {
    return { reason: "unreachable", detail: message.slice(0, 512) };
  }
  return { reason: "error", detail: message.slice(0, 512) };
}

export async function httpGet(url: string, opts: HttpGetOptions): Promise<HttpAnswer> {
  try {
    const response = await fetch(url, {
      headers: { accept: "application/json, text/plain;q=0.9, */*;q=0.1", ...opts.headers },
      signal: AbortSignal.timeout(opts.timeoutMs),
      redirect: "error",
    });
    const body = await response.text();
    if (body.length > MAX_BODY_CHARS) {
      return {
        ok: false,
        reason: "error",
        detail: `answer of ${body.length} characters is too large`,
      };
    }
    return { ok: true, status: response.status, body };
  } catch (err) {
    return { ok: false, ...classifyFailure(err, opts.timeoutMs) };
  }
}
