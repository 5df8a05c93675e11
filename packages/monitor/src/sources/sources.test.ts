import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sloSchema } from "@bluegreen/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrometheusSource } from "./prometheus.ts";
import { ScrapeSource } from "./scrape.ts";

/** A loopback HTTP server answering what the test sets; it records the last request. */
let server: Server;
let base = "";
let answer: { status: number; body: string; delayMs?: number } = { status: 200, body: "" };
let lastUrl = "";
let lastHeaders: IncomingHttpHeaders = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    lastUrl = req.url ?? "";
    lastHeaders = req.headers;
    setTimeout(() => {
      res.writeHead(answer.status, { "content-type": "text/plain" });
      res.end(answer.body);
    }, answer.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const target = { service: "emily", color: "green" as const };

describe("PrometheusSource", () => {
  const slo = sloSchema.parse({
    name: "errors",
    query: 'ratio{instance="${instance}"}',
    max: 0.05,
  });

  it("sends the expanded query with the Authorization header and reads the answer", async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        status: "success",
        data: { resultType: "vector", result: [{ metric: {}, value: [1, "0.5"] }] },
      }),
    };
    const seen: number[] = [];
    const source = new PrometheusSource({
      url: `http://${base}/`,
      timeoutMs: 1_000,
      authorization: "Bearer s3cret",
      observe: (s) => seen.push(s),
    });
    const m = await source.measure(slo, { ...target, instance: "10.0.0.11:8000" });
    expect(m).toEqual({ kind: "value", value: 0.5 });
    expect(lastHeaders.authorization).toBe("Bearer s3cret");
    expect(decodeURIComponent(lastUrl)).toBe(
      '/api/v1/query?query=ratio{instance="10.0.0.11:8000"}',
    );
    expect(seen).toHaveLength(1);
  });

  it("answers timeout when Prometheus is too slow", async () => {
    answer = { status: 200, body: "{}", delayMs: 500 };
    const source = new PrometheusSource({ url: `http://${base}`, timeoutMs: 100 });
    expect(await source.measure(slo, target)).toEqual({
      kind: "error",
      reason: "timeout",
      detail: "no answer within 100 ms",
    });
  });
});

describe("ScrapeSource", () => {
  const slo = sloSchema.parse({ name: "errors", scrape: { errorRatio: {} }, max: 0.05 });
  const metrics = (ok: number, failed: number) =>
    `# TYPE http_requests_total counter\nhttp_requests_total{path="/a",status="200"} ${ok}\nhttp_requests_total{path="/a",status="500"} ${failed}\n`;

  it("judges the deltas since the baseline, and the next round since the last one", async () => {
    const source = new ScrapeSource({ path: "/metrics", timeoutMs: 1_000, slos: [slo] });
    answer = { status: 200, body: metrics(100, 0) };
    await source.takeBaseline([base]);
    expect(lastUrl).toBe("/metrics");

    answer = { status: 200, body: metrics(150, 50) };
    await source.beginRound([base]);
    expect(await source.measure(slo, { ...target, instance: base })).toEqual({
      kind: "value",
      value: 0.5,
      requests: 100,
    });
    source.endRound();

    answer = { status: 200, body: metrics(160, 50) };
    await source.beginRound([base]);
    expect(await source.measure(slo, { ...target, instance: base })).toEqual({
      kind: "value",
      value: 0,
      requests: 10,
    });
    source.endRound();
    expect(source.exportBaselines()[base]?.families).toEqual({
      "counter:http_requests_total:status": { "200": 160, "500": 50 },
    });
  });

  it("resumes from exported baselines", async () => {
    const source = new ScrapeSource({
      path: "/metrics",
      timeoutMs: 1_000,
      slos: [slo],
      baselines: {
        [base]: { at: 0, families: { "counter:http_requests_total:status": { "200": 10 } } },
      },
    });
    answer = { status: 200, body: metrics(15, 5) };
    await source.beginRound([base]);
    expect(await source.measure(slo, { ...target, instance: base })).toMatchObject({
      value: 0.5,
      requests: 10,
    });
  });

  it("says no data for a node without a baseline, and an error for a bad answer", async () => {
    const source = new ScrapeSource({ path: "/metrics", timeoutMs: 1_000, slos: [slo] });
    answer = { status: 200, body: metrics(1, 0) };
    await source.beginRound([base]);
    expect((await source.measure(slo, { ...target, instance: base })).kind).toBe("no_data");
    source.endRound();
    answer = { status: 503, body: "down" };
    await source.beginRound([base]);
    expect(await source.measure(slo, { ...target, instance: base })).toMatchObject({
      kind: "error",
      reason: "error",
    });
  });
});
