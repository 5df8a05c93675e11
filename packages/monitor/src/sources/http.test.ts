import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyFailure, httpGet, MAX_BODY_BYTES } from "./http.ts";
import { metricsUrl } from "./scrape.ts";

let server: Server;
let host = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/slow") setTimeout(() => res.end("late"), 2_000).unref();
    else if (req.url === "/moved") {
      res.writeHead(302, { location: "/elsewhere" });
      res.end();
    } else if (req.url === "/huge") res.end(Buffer.alloc(MAX_BODY_BYTES + 1, 0x61));
    else res.end(JSON.stringify({ accept: req.headers.accept, auth: req.headers.authorization }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("classifyFailure", () => {
  const failed = { kind: "error", timedOut: false, aborted: false, latencyMs: 1 } as const;

  it("sorts failures into timeout, unreachable and error", () => {
    expect(
      classifyFailure({ ...failed, timedOut: true, reason: "no answer within 500 ms" }, "h:1"),
    ).toEqual({ reason: "timeout", detail: "no answer within 500 ms" });
    expect(
      classifyFailure({ ...failed, code: "ECONNREFUSED", reason: "connection refused" }, "h:1"),
    ).toEqual({ reason: "unreachable", detail: "connection refused (h:1)" });
    expect(classifyFailure({ ...failed, reason: "something else" }, "h:1")).toEqual({
      reason: "error",
      detail: "something else (h:1)",
    });
  });
});

describe("httpGet", () => {
  it("answers the status and body, sending the headers given", async () => {
    const answer = await httpGet(`http://${host}/`, {
      timeoutMs: 2_000,
      headers: { authorization: "Bearer s3cret" },
    });
    expect(answer).toMatchObject({ ok: true, status: 200 });
    if (!answer.ok) throw new Error(answer.detail);
    expect(JSON.parse(answer.body)).toEqual({
      accept: "application/json, text/plain;q=0.9, */*;q=0.1",
      auth: "Bearer s3cret",
    });
  });

  it("says timeout when no answer comes within the deadline", async () => {
    expect(await httpGet(`http://${host}/slow`, { timeoutMs: 100 })).toEqual({
      ok: false,
      reason: "timeout",
      detail: "no answer within 100 ms",
    });
  });

  it("says unreachable when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await httpGet(`http://127.0.0.1:${port}/`, { timeoutMs: 1_000 })).toMatchObject({
      ok: false,
      reason: "unreachable",
    });
  });

  it("refuses a redirect and an answer over the size cap as errors", async () => {
    expect(await httpGet(`http://${host}/moved`, { timeoutMs: 1_000 })).toMatchObject({
      ok: false,
      reason: "error",
      detail: expect.stringContaining("redirect"),
    });
    expect(await httpGet(`http://${host}/huge`, { timeoutMs: 5_000 })).toMatchObject({
      ok: false,
      reason: "error",
      detail: expect.stringMatching(/^answer .* is too large$/),
    });
  });
});

describe("metricsUrl", () => {
  it("builds the node's metrics URL", () => {
    expect(metricsUrl("127.0.0.1:8000", "/metrics")).toBe("http://127.0.0.1:8000/metrics");
    expect(metricsUrl("::1:8000", "/metrics")).toBe("http://[::1]:8000/metrics");
  });
});
