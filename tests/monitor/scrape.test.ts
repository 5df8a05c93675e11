// The monitor with the direct-scrape source (no Prometheus): the monitor reads the green
// node's /metrics itself. Real NATS, real sample apps, the monitor as a child process.

import {
  applyWatchDefinition,
  connectClient,
  type MonitorProcess,
  makeTempDir,
  type NatsServer,
  promote,
  type SampleAppHandle,
  startApiTraffic,
  startMonitorProcess,
  startNats,
  startSampleApp,
  type TempDir,
  type TestClient,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dep, SCRAPE_ERROR_RATIO, waitForChecks } from "./harness.ts";

const scrapeMonitor = (window: string, extra: Record<string, unknown> = {}) => ({
  window,
  interval: "1s",
  source: { scrape: true, timeout: "1s" },
  slos: [
    SCRAPE_ERROR_RATIO,
    { name: "p95-latency", scrape: { quantile: { q: 0.95 } }, max: 5, on_breach: "warn" },
  ],
  inconclusive: { limit: 3, on_limit: "rollback" },
  ...extra,
});

describe("monitor with the direct-scrape source", () => {
  let nats: NatsServer;
  let blue: SampleAppHandle;
  let green: SampleAppHandle;
  let stack: TestClient;
  let monitorDir: TempDir;
  let monitor: MonitorProcess;
  let traffic: ReturnType<typeof startApiTraffic>;

  beforeAll(async () => {
    [nats, blue, green] = await Promise.all([
      startNats({ jetstream: true }),
      startSampleApp({ color: "blue", version: "v1.0" }),
      startSampleApp({ color: "green", version: "v1.1" }),
    ]);
    stack = await connectClient(nats.url);
    for (const [service, window] of [
      ["scrape-superseded", "30s"],
      ["scrape-breach", "30s"],
      ["scrape-resume", "9s"],
      ["scrape-garbage", "4s"],
    ] as const) {
      await applyWatchDefinition(stack, {
        service,
        blue: blue.instance,
        green: green.instance,
        monitor: scrapeMonitor(window),
      });
    }
    monitorDir = await makeTempDir("monitor-scrape");
    monitor = await startMonitorProcess({ nats, dir: monitorDir, agentId: "monitor-scrape" });
    traffic = startApiTraffic([blue.url, green.url]);
  });

  afterAll(async () => {
    await traffic?.stop();
    await monitor?.stop();
    await monitorDir?.remove();
    await stack?.close();
    await Promise.all([blue?.stop(), green?.stop(), nats?.stop()]);
  });

  it("given green serving, when half its requests fail, then slo.breached names the value and threshold within seconds", async () => {
    await promote(stack, "scrape-breach", dep("scrape-breach"));
    const started = await stack.log.wait("monitor.started", { deploymentId: dep("scrape-breach") });
    expect(started.data).toMatchObject({
      color: "green",
      instances: [green.instance],
      source: "scrape",
    });
    // Clean checks first: the watch judges green healthy before the fault.
    await waitForChecks(stack, "scrape-breach", 2);
    expect(stack.log.of("slo.breached", dep("scrape-breach"))).toHaveLength(0);

    const onset = Date.now();
    await green.setFaults({ errorRate: 0.5 });
    try {
      const breached = await stack.log.wait("slo.breached", {
        deploymentId: dep("scrape-breach"),
        timeoutMs: 10_000,
      });
      const detectedMs = Date.parse(breached.time) - onset;
      expect(breached.data).toMatchObject({
        slo: "error-ratio",
        color: "green",
        threshold: 0.05,
        breaches: 1,
        limit: 1,
        action: "rollback",
      });
      expect(breached.data.value).toBeGreaterThan(0.2);
      expect(breached.data.value).toBeLessThan(0.8);
      expect(breached.data.query).toContain(`${green.instance}/metrics`);
      // The goal is a p50 under 5 s (npm run bench -- detect measures it); a single run on a
      // loaded 2-core machine gets some slack.
      expect(detectedMs).toBeLessThan(8_000);
    } finally {
      await green.setFaults({ errorRate: 0 });
    }
  });

  it("given a watch under way, when the monitor is killed and started again, then it resumes the remaining window with its counters", async () => {
    await promote(stack, "scrape-resume", dep("scrape-resume"));
    const started = await stack.log.wait("monitor.started", { deploymentId: dep("scrape-resume") });
    // Let a few checks land in KV, then crash the monitor.
    const before = await waitForChecks(stack, "scrape-resume", 3);
    await monitor.kill();
    monitor = await startMonitorProcess({ nats, dir: monitorDir, agentId: "monitor-scrape" });

    const resumed = await stack.log.wait("monitor.started", {
      deploymentId: dep("scrape-resume"),
      where: (e) => e.data.resumed,
    });
    expect(resumed.data.deadline).toBe(started.data.deadline);
    const passed = await stack.log.wait("monitor.passed", {
      deploymentId: dep("scrape-resume"),
      timeoutMs: 15_000,
    });
    // The counters carried over: more checks than before the crash, never a fresh start.
    expect(passed.data.checks).toBeGreaterThan(before);
    expect(passed.data.checks).toBeLessThanOrEqual(9);
    expect(passed.data.durationMs).toBeGreaterThanOrEqual(9_000);
    expect(Date.parse(passed.time)).toBeLessThan(Date.parse(started.data.deadline) + 5_000);
    expect(stack.log.of("slo.breached", dep("scrape-resume"))).toHaveLength(0);
  });

  it("given a watch under way, when malformed switch events arrive, then each is rejected with a code and the watch passes", async () => {
    await promote(stack, "scrape-garbage", dep("scrape-garbage"));
    await stack.log.wait("monitor.started", { deploymentId: dep("scrape-garbage") });
    stack.nc.publish("bluegreen.scrape-garbage.switch.done", new TextEncoder().encode("{not json"));
    stack.nc.publish(
      "bluegreen.scrape-garbage.switch.done",
      JSON.stringify({
        specversion: "1.0",
        id: "bad-switch-1",
        source: "test",
        type: "bluegreen.switch.done",
        time: new Date().toISOString(),
        subject: "scrape-garbage",
        deploymentid: dep("other"),
        data: { to: "purple", reason: "promote" },
      }),
    );
    const rejected = (code: string) =>
      stack.log.wait("agent.rejected", {
        where: (e) =>
          e.data.code === code &&
          e.data.rejectedBy === `monitor/${monitor.agentId}` &&
          e.data.originalSubject === "bluegreen.scrape-garbage.switch.done",
      });
    // Well formed, but for a service nobody defined.
    await promote(stack, "scrape-nobody", dep("scrape-nobody"));
    const [notJson, invalid, unknown] = await Promise.all([
      rejected("BG_ERR_EVENT_MALFORMED_JSON"),
      rejected("BG_ERR_EVENT_INVALID"),
      stack.log.wait("agent.rejected", {
        where: (e) => e.data.code === "BG_ERR_CONFIG_UNKNOWN_SERVICE",
        timeoutMs: 10_000,
      }),
    ]);
    expect(unknown.subject).toBe("scrape-nobody");
    expect(unknown.deploymentid).toBe(dep("scrape-nobody"));
    expect(invalid.data.originalId).toBe("bad-switch-1");
    expect(invalid.data.issues.map((i) => i.path)).toContain("data.to");
    expect(notJson.data.excerpt).toContain("{not json");

    const passed = await stack.log.wait("monitor.passed", {
      deploymentId: dep("scrape-garbage"),
      timeoutMs: 10_000,
    });
    expect(passed.data).toMatchObject({ color: "green", inconclusive: 0 });
    expect(passed.data.checks).toBeGreaterThanOrEqual(3);
    expect(stack.log.of("monitor.started", dep("other"))).toHaveLength(0);
  });
  it("given a watch under way, when a newer promotion arrives and then its deployment ends, then each watch stops with its reason", async () => {
    await promote(stack, "scrape-superseded", dep("first"));
    await stack.log.wait("monitor.started", { deploymentId: dep("first") });
    await promote(stack, "scrape-superseded", dep("second"), "blue");

    const superseded = await stack.log.wait("monitor.stopped", { deploymentId: dep("first") });
    expect(superseded.data).toMatchObject({ color: "green", reason: "superseded" });
    const second = await stack.log.wait("monitor.started", { deploymentId: dep("second") });
    expect(second.data).toMatchObject({
      color: "blue",
      instances: [blue.instance],
      resumed: false,
    });

    await stack.bus.emit("deploy.aborted", {
      service: "scrape-superseded",
      deploymentId: dep("second"),
      data: { by: "alice", phase: "monitoring", trafficMovedBack: true },
    });
    const ended = await stack.log.wait("monitor.stopped", { deploymentId: dep("second") });
    expect(ended.data).toMatchObject({ color: "blue", reason: "deployment_ended" });
    // monitor.stopped is published before the stored watch is marked (so a crash in between
    // repeats the stop on redelivery): the record follows a moment later.
    await expect
      .poll(async () => (await stack.kv.watches.get("scrape-superseded"))?.json(), {
        timeout: 5_000,
      })
      .toMatchObject({ status: "stopped", deploymentId: dep("second") });
    expect(stack.log.of("monitor.passed", dep("first"))).toHaveLength(0);
  });
});
