// Given an agent's HTTP endpoint over a real NATS connection: /healthz follows the connection,
// /metrics serves the registry.

import { createMetricsRegistry, natsHealth, startAgentHttp } from "@bluegreen/runtime";
import { Counter } from "prom-client";
import { describe, expect, it } from "vitest";
import { startedForSuite } from "../suite.ts";
import { eventually, type Fixture, startFixture } from "./helpers.ts";

let fx: Fixture;
startedForSuite(
  startFixture,
  (started) => {
    fx = started;
  },
  (started) => started.close(),
);

describe("agent http", () => {
  it("reports the NATS connection on /healthz: 200 connected, 503 while the server is down", async () => {
    const registry = createMetricsRegistry("bluegreen_test_");
    const http = await startAgentHttp({
      host: "127.0.0.1",
      port: 0,
      registry,
      health: natsHealth(fx.nc),
    });
    try {
      const up = await fetch(`${http.url}/healthz`);
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ ok: true, nats: { connected: true } });

      await fx.server.kill("SIGKILL");
      const down = await eventually("/healthz to answer 503", async () => {
        const res = await fetch(`${http.url}/healthz`);
        return res.status === 503 ? res : undefined;
      });
      expect(await down.json()).toMatchObject({ ok: false, nats: { connected: false } });

      await fx.server.restart();
      await eventually("/healthz to answer 200 again", async () =>
        (await fetch(`${http.url}/healthz`)).status === 200 ? true : undefined,
      );
    } finally {
      await http.close();
    }
  });

  it("serves the registry on /metrics and 404 elsewhere", async () => {
    const registry = createMetricsRegistry("bluegreen_test_");
    new Counter({ name: "bluegreen_test_events_total", help: "events", registers: [registry] }).inc(
      3,
    );
    const http = await startAgentHttp({
      host: "127.0.0.1",
      port: 0,
      registry,
      health: () => ({ ok: true }),
    });
    try {
      const metrics = await fetch(`${http.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get("content-type")).toBe(registry.contentType);
      const text = await metrics.text();
      expect(text).toContain("bluegreen_test_events_total 3");
      expect(text).toContain("bluegreen_test_process_cpu_user_seconds_total");
      expect((await fetch(`${http.url}/nope`)).status).toBe(404);
    } finally {
      await http.close();
    }
  });
});
