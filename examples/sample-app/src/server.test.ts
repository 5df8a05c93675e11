// The server in-process on a loopback port: routes, headers, metrics, fault injection.

import { afterEach, describe, expect, it } from "vitest";
import { createSampleApp, type SampleApp } from "./server.ts";

let app: SampleApp | undefined;
afterEach(async () => {
  await app?.close(0);
  app = undefined;
});

async function start(config: Partial<Parameters<typeof createSampleApp>[0]> = {}) {
  app = createSampleApp({ host: "127.0.0.1", port: 0, version: "1.0.0", color: "blue", ...config });
  const { port } = await app.listen();
  return `http://127.0.0.1:${port}`;
}

describe("sample app server", () => {
  it("answers health, inference and memory with its identity headers", async () => {
    const url = await start({ defaultMetrics: false });
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get("x-app-version")).toBe("1.0.0");
    expect(health.headers.get("x-app-color")).toBe("blue");
    expect(await health.json()).toEqual({
      status: "healthy",
      version: "1.0.0",
      color: "blue",
      instance: url.slice("http://".length),
    });
    const inference = await fetch(`${url}/api/v1/inference`, {
      method: "POST",
      body: JSON.stringify({ prompt: "two words" }),
    });
    expect(inference.status).toBe(200);
    expect(await inference.json()).toMatchObject({ tokens: 2, version: "1.0.0" });
    const memory = await fetch(`${url}/api/v1/memory`);
    expect(await memory.json()).toMatchObject({ inferences: 1, color: "blue" });
    expect((await fetch(`${url}/api/v1/inference`, { method: "POST", body: "{" })).status).toBe(
      400,
    );
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it("counts requests but not /metrics or /admin", async () => {
    const url = await start({ defaultMetrics: false });
    await fetch(`${url}/health`);
    await fetch(`${url}/admin/faults`);
    await fetch(`${url}/metrics`);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('http_requests_total{method="GET",path="/health",status="200"} 1');
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="0.005",method="GET",path="/health"',
    );
    expect(text).not.toContain('path="other"');
    expect(text).not.toMatch(/path="\/(metrics|admin)/);
  });

  it("injects errors into the API but not /health", async () => {
    const url = await start({ defaultMetrics: false, random: () => 0.5 });
    const set = await fetch(`${url}/admin/faults`, {
      method: "POST",
      body: JSON.stringify({ errorRate: 0.6 }),
    });
    expect(await set.json()).toEqual({ errorRate: 0.6, latencyMs: 0, healthFail: false });
    expect((await fetch(`${url}/api/v1/memory`)).status).toBe(500);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const bad = await fetch(`${url}/admin/faults`, { method: "POST", body: '{"errorRate":-1}' });
    expect(bad.status).toBe(400);
  });

  it("reports unhealthy during a slow start and when told to", async () => {
    let now = 0;
    const url = await start({ defaultMetrics: false, slowStartMs: 1000, now: () => now });
    const starting = await fetch(`${url}/health`);
    expect(starting.status).toBe(503);
    expect(await starting.json()).toMatchObject({ status: "unhealthy", reason: "starting" });
    now = 1000;
    expect((await fetch(`${url}/health`)).status).toBe(200);
    app?.setFaults({ healthFail: true });
    expect((await fetch(`${url}/health`)).status).toBe(503);
  });

  it("delays responses by latencyMs", async () => {
    const url = await start({
      defaultMetrics: false,
      faults: { errorRate: 0, latencyMs: 120, healthFail: false },
    });
    const started = performance.now();
    await fetch(`${url}/health`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });
});
