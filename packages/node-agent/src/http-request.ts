import type { HttpAnswer } from "./smoke/verdict.ts";

/** The I/O half of readiness probes and HTTP smoke checks: one request, never throws. */
export interface HttpRequest {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Sent as JSON with `content-type: application/json`. */
  readonly json?: unknown;
  readonly body?: string | undefined;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** Bodies are read up to this size; the rest is dropped (a smoke check needs no more). */
export const MAX_BODY_BYTES = 256 * 1024;

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === "ECONNREFUSED") return "connection refused";
  if (cause?.code === "ECONNRESET") return "connection reset";
  if (cause?.code === "UND_ERR_SOCKET") return "connection closed before an answer";
  if (cause?.code !== undefined) return `${cause.code}: ${cause.message ?? ""}`.trim();
  return error instanceof Error ? error.message : String(error);
}

async function readBounded(response: Response): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= MAX_BODY_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString("utf8");
}

export async function httpRequest(req: HttpRequest): Promise<HttpAnswer> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(req.timeoutMs)));
  const signal = req.signal === undefined ? timeout : AbortSignal.any([timeout, req.signal]);
  const headers: Record<string, string> = { ...req.headers };
  let body: string | undefined = req.body;
  if (req.json !== undefined) {
    body = JSON.stringify(req.json);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
      headers["content-type"] = "application/json";
  }
  try {
    const response = await fetch(req.url, {
      method: req.method ?? "GET",
      headers,
      ...(body === undefined ? {} : { body }),
      signal,
      redirect: "manual",
    });
    const text = await readBounded(response);
    return {
      kind: "response",
      status: response.status,
      body: text,
      latencyMs: performance.now() - started,
    };
  } catch (error) {
    const latencyMs = performance.now() - started;
    if (timeout.aborted) {
      return {
        kind: "error",
        reason: `no answer within ${Math.round(req.timeoutMs)} ms`,
        timedOut: true,
        latencyMs,
      };
    }
    if (req.signal?.aborted) {
      return { kind: "error", reason: "aborted", timedOut: false, latencyMs };
    }
    return { kind: "error", reason: reasonOf(error), timedOut: false, latencyMs };
  }
}

/** `http://host:port/path`, with IPv6 literals bracketed. */
export function nodeUrl(node: { host: string; port: number }, path: string): string {
  const host = node.host.includes(":") && !node.host.startsWith("[") ? `[${node.host}]` : node.host;
  return `http://${host}:${node.port}${path}`;
}
