import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

/**
 * One GET on a new connection (`agent: false`): a probe or a verification must not ride on a
 * kept-alive connection to an nginx worker that is shutting down after a reload.
 */

export const BODY_LIMIT = 16 * 1024;

export type GetResult =
  | { ok: true; status: number; headers: IncomingHttpHeaders; body: string }
  | { ok: false; error: string };

export function httpGet(url: string | URL, timeoutMs: number): Promise<GetResult> {
  const target = typeof url === "string" ? new URL(url) : url;
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: GetResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = request(
      target,
      { method: "GET", agent: false, headers: { connection: "close", accept: "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          if (size < BODY_LIMIT) chunks.push(chunk);
          size += chunk.length;
        });
        res.on("end", () =>
          done({
            ok: true,
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8").slice(0, BODY_LIMIT),
          }),
        );
        res.on("error", (err) => done({ ok: false, error: err.message }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) =>
      done({ ok: false, error: err.code ?? err.message }),
    );
    req.end();
  });
}
