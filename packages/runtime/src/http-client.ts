import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

/**
 * The one HTTP client of the agents: readiness probes, smoke checks, the switcher's probes and
 * verification through nginx, the monitor's Prometheus queries and scrapes. One request on a
 * new connection (`agent: false`: a probe must not ride on a kept-alive connection to an nginx
 * worker that is shutting down after a reload), a deadline, a body read up to a cap, redirects
 * not followed. Never throws: a failure is an answer of its own, sorted for the callers.
 */

export interface HttpCall {
  readonly url: string | URL;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Sent as JSON with `content-type: application/json` (unless the headers say otherwise). */
  readonly json?: unknown;
  readonly body?: string | undefined;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** The body is read up to this many bytes; the rest is dropped and `truncated` set. */
  readonly maxBodyBytes: number;
}

export type HttpAnswer =
  | {
      readonly kind: "response";
      readonly status: number;
      readonly headers: IncomingHttpHeaders;
      readonly body: string;
      /** The body was longer than `maxBodyBytes`. */
      readonly truncated: boolean;
      readonly latencyMs: number;
    }
  | {
      readonly kind: "error";
      /** The system error code when there is one (`ECONNREFUSED`, `ECONNRESET`, …). */
      readonly code?: string;
      /** A short reason a person can read: "connection refused", "no answer within 500 ms". */
      readonly reason: string;
      readonly timedOut: boolean;
      readonly aborted: boolean;
      readonly latencyMs: number;
    };

/** Connection-level failures: nothing listens there, or the way there is broken. */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);

function reasonOf(err: NodeJS.ErrnoException): string {
  if (err.code === "ECONNREFUSED") return "connection refused";
  if (err.code === "ECONNRESET") return "connection closed before an answer";
  if (err.code !== undefined) return `${err.code}: ${err.message}`.trim();
  return err.message;
}

export function httpCall(call: HttpCall): Promise<HttpAnswer> {
  const started = performance.now();
  const latency = () => performance.now() - started;
  const target = typeof call.url === "string" ? new URL(call.url) : call.url;
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  const headers: Record<string, string> = { connection: "close", ...call.headers };
  let body = call.body;
  if (call.json !== undefined) {
    body = JSON.stringify(call.json);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
      headers["content-type"] = "application/json";
  }
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      call.signal?.removeEventListener("abort", onAbort);
      resolve(answer);
    };
    const fail = (
      reason: string,
      extra: { code?: string; timedOut?: boolean; aborted?: boolean },
    ) =>
      done({
        kind: "error",
        reason,
        timedOut: extra.timedOut ?? false,
        aborted: extra.aborted ?? false,
        latencyMs: latency(),
        ...(extra.code === undefined ? {} : { code: extra.code }),
      });
    const req = request(target, { method: call.method ?? "GET", agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      res.on("data", (chunk: Buffer) => {
        if (truncated) return;
        const room = call.maxBodyBytes - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, Math.max(0, room)));
          truncated = true;
          size = call.maxBodyBytes;
          done({
            kind: "response",
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
            truncated: true,
            latencyMs: latency(),
          });
          res.destroy();
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on("end", () =>
        done({
          kind: "response",
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          truncated,
          latencyMs: latency(),
        }),
      );
      res.on("error", (err: NodeJS.ErrnoException) =>
        fail(reasonOf(err), err.code === undefined ? {} : { code: err.code }),
      );
    });
    const timeoutMs = Math.max(1, Math.ceil(call.timeoutMs));
    const timer = setTimeout(() => {
      req.destroy();
      fail(`no answer within ${Math.round(call.timeoutMs)} ms`, { timedOut: true });
    }, timeoutMs);
    const onAbort = () => {
      req.destroy();
      fail("aborted", { aborted: true });
    };
    if (call.signal?.aborted) onAbort();
    else call.signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", (err: NodeJS.ErrnoException) =>
      fail(reasonOf(err), err.code === undefined ? {} : { code: err.code }),
    );
    req.end(body);
  });
}

/** `http://host:port/path`, with IPv6 literals bracketed. */
export function nodeUrl(node: { host: string; port: number }, path: string): string {
  const host = node.host.includes(":") && !node.host.startsWith("[") ? `[${node.host}]` : node.host;
  return `http://${host}:${node.port}${path}`;
}
