import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpCall, nodeUrl } from "./http-client.ts";

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/echo") {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ method: req.method, type: req.headers["content-type"], body }));
      });
    } else if (url.pathname === "/big") res.end("x".repeat(100_000));
    else if (url.pathname === "/slow") setTimeout(() => res.end("late"), 2_000).unref();
    else if (url.pathname === "/moved") {
      res.statusCode = 302;
      res.setHeader("location", "/echo");
      res.end();
    } else if (url.pathname === "/hangup") req.socket.destroy();
    else res.end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("httpCall", () => {
  it("answers status, headers and body, sending JSON with its content type", async () => {
    const answer = await httpCall({
      url: `${base}/echo`,
      method: "POST",
      json: { prompt: "test" },
      timeoutMs: 2_000,
      maxBodyBytes: 1024,
    });
    expect(answer).toMatchObject({ kind: "response", status: 200, truncated: false });
    if (answer.kind !== "response") throw new Error(answer.reason);
    expect(JSON.parse(answer.body)).toEqual({
      method: "POST",
      type: "application/json",
      body: '{"prompt":"test"}',
    });
    expect(answer.headers["content-type"]).toBe("application/json");
  });

  it("cuts the body at the cap and says so", async () => {
    const answer = await httpCall({ url: `${base}/big`, timeoutMs: 2_000, maxBodyBytes: 1000 });
    expect(answer).toMatchObject({ kind: "response", status: 200, truncated: true });
    expect(answer.kind === "response" && answer.body.length).toBe(1000);
  });

  it("does not follow redirects", async () => {
    const answer = await httpCall({ url: `${base}/moved`, timeoutMs: 2_000, maxBodyBytes: 100 });
    expect(answer).toMatchObject({ kind: "response", status: 302 });
  });

  it("sorts failures: a deadline, a refused connection, a hang-up, an abort", async () => {
    expect(
      await httpCall({ url: `${base}/slow`, timeoutMs: 100, maxBodyBytes: 100 }),
    ).toMatchObject({ kind: "error", timedOut: true, reason: "no answer within 100 ms" });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(
      await httpCall({
        url: nodeUrl({ host: "127.0.0.1", port }, "/"),
        timeoutMs: 1_000,
        maxBodyBytes: 1,
      }),
    ).toMatchObject({
      kind: "error",
      code: "ECONNREFUSED",
      reason: "connection refused",
      timedOut: false,
    });
    expect(
      await httpCall({ url: `${base}/hangup`, timeoutMs: 1_000, maxBodyBytes: 1 }),
    ).toMatchObject({ kind: "error", code: "ECONNRESET", timedOut: false });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    expect(
      await httpCall({
        url: `${base}/slow`,
        timeoutMs: 5_000,
        maxBodyBytes: 1,
        signal: controller.signal,
      }),
    ).toMatchObject({ kind: "error", aborted: true, timedOut: false });
  });

  it("brackets IPv6 literals in node URLs", () => {
    expect(nodeUrl({ host: "::1", port: 80 }, "/health")).toBe("http://[::1]:80/health");
  });
});
