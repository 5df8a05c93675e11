import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForReady } from "./readiness.ts";

// A node on loopback whose health check answers 503, each answer taking 150 ms.
let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((_req, res) => {
    setTimeout(() => {
      res.statusCode = 503;
      res.end("starting");
    }, 150);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("waitForReady", () => {
  it("given a node that keeps answering 503, when the deadline cuts the last request short, then the last real answer is reported", async () => {
    const result = await waitForReady({
      node: { host: "127.0.0.1", port },
      readiness: { path: "/health", expect_status: 200, interval: 100, timeout: 500 },
    });
    expect(result.ready).toBe(false);
    expect(result.attempts).toBeGreaterThanOrEqual(2);
    expect(result.lastAnswer).toMatch(/^HTTP 503/);
  });
});
