// The monitor's nginx source, all real: nginx logs every request as a JSON line to the
// switcher's request-log reader (UDP syslog on loopback), the reader publishes 100 ms windows
// on `bgstats.<service>`, the monitor judges them. One stack for the file (blue v1.0 serving).

import type { BgEvent, Color, Slo } from "@bluegreen/contracts";
import { serviceDefinitionSchema } from "@bluegreen/contracts";
import { judge, NginxSource } from "@bluegreen/monitor/internal";
import { startTraffic } from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eStack, setFaults, startE2eStack } from "./stack.ts";

let stack: E2eStack;
const deploymentIdOf = (stdout: string) => /deploying \S+ \S+ as (\S+)/.exec(stdout)?.[1] ?? "";
const named = (events: readonly BgEvent[], name: string) =>
  events.filter((e) => e.type === `bluegreen.${name}`);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The colour nginx serves now, and the other one. */
async function colours(): Promise<{ serving: Color; idle: Color }> {
  const serving: Color = (await stack.served()).color === "green" ? "green" : "blue";
  return { serving, idle: serving === "blue" ? "green" : "blue" };
}

beforeAll(async () => {
  stack = await startE2eStack({ window: "3s", nginxSource: true });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe("the nginx source", () => {
  it("a steady 1 % error rate under a 5 % SLO: 50 short watches over real nginx traffic, zero breaches", async () => {
    // The source and the verdict directly (50 full deploys would take minutes): each watch is
    // 5 rounds of 100 ms, and between rounds the early-breach signal is raced as the loop does.
    const { serving } = await colours();
    const node = stack.base.apps[serving];
    await setFaults(node, { errorRate: 0.01 });
    const load = startTraffic({ url: `${stack.nginxUrl}/api/v1/memory`, pauseMs: 0 });
    const definition = stack.base.definition;
    const slo: Slo = serviceDefinitionSchema.shape.monitor.parse({
      source: { nginx: {} },
      slos: [{ name: "errors", nginx: { errorRatio: {} }, max: 0.05, min_requests: 3 }],
    }).slos[0] as Slo;
    const instance = `${definition.nodes[serving][0]?.host}:${definition.nodes[serving][0]?.port}`;
    let breaches = 0;
    let judged = 0;
    let requests = 0;
    let errors = 0;
    try {
      for (let w = 0; w < 50; w++) {
        const source = new NginxSource({
          nc: stack.base.nc,
          service: stack.service,
          instances: [instance],
          slos: [slo],
          settings: { stale_after: 1_000 },
          probeMark: `w${w}`,
        });
        try {
          for (let round = 0; round < 5; round++) {
            const timer = new AbortController();
            const early = await Promise.race([
              wait(100).then(() => false),
              source.decisive(timer.signal).then(() => !timer.signal.aborted),
            ]);
            timer.abort();
            if (early) breaches++;
            await source.beginRound();
            const m = await source.measure(slo, {
              service: stack.service,
              color: serving,
              instance,
            });
            source.endRound();
            const verdict = judge(slo, m);
            if (verdict.verdict === "breach") breaches++;
            if (m.kind === "value") {
              judged++;
              requests += m.requests ?? 0;
              errors += Math.round(m.value * (m.requests ?? 0));
            }
          }
        } finally {
          source.close();
        }
      }
    } finally {
      await load.stop();
      await setFaults(node, { errorRate: 0 });
    }
    expect(breaches).toBe(0);
    // Real evidence was judged, and it had errors in it.
    expect(judged).toBeGreaterThan(200);
    expect(requests).toBeGreaterThan(2_000);
    expect(errors).toBeGreaterThan(0);
  }, 90_000);

  it("a fault after the switch: breach from the nginx windows, rolled back, exit 5", async () => {
    const { idle } = await colours();
    const run = stack.cli(["deploy", stack.service, "v1.1", "--wait", "--timeout", "50s"]);
    const started = await stack.log.wait("monitor.started", {
      timeoutMs: 40_000,
      where: (e) => e.data.version === "v1.1",
    });
    expect(started.data.source).toBe("nginx");
    const onset = Date.now();
    await setFaults(stack.base.apps[idle], { errorRate: 1 });
    try {
      const result = await run;
      expect(result.code, result.stdout + result.stderr).toBe(5);
      const events = await stack.events(deploymentIdOf(result.stdout));
      const breach = named(events, "slo.breached")[0];
      expect(breach?.data).toMatchObject({ slo: "error-ratio", action: "rollback" });
      const evidence = ((breach?.data ?? {}) as { evidence?: { requests: number } }).evidence;
      expect(evidence?.requests).toBeGreaterThanOrEqual(3);
      // Judged as the windows came in, not at the 1 s check.
      expect(Date.parse(breach?.time ?? "") - onset).toBeLessThan(900);
      expect(named(events, "deploy.rolled_back")).toHaveLength(1);
      expect((await stack.served()).color).not.toBe(idle);
    } finally {
      await setFaults(stack.base.apps[idle], { errorRate: 0 });
    }
  }, 90_000);

  it("the reader down (switcher stopped): inconclusive, never a pass", async () => {
    await stack.applyDefinition((doc) =>
      doc.setIn(["monitor", "inconclusive"], { limit: 2, on_limit: "rollback" }),
    );
    const switcher = stack.base.agents.find((a) => a.name.startsWith("switcher"));
    const pid = switcher?.process.pid ?? 0;
    const run = stack.cli(["deploy", stack.service, "v1.2", "--wait", "--timeout", "50s"]);
    try {
      await stack.log.wait("monitor.started", {
        timeoutMs: 40_000,
        where: (e) => e.data.version === "v1.2",
      });
      process.kill(pid, "SIGSTOP");
      // The round under way may find no request yet (no_data); the next one finds no reader.
      const inconclusive = await stack.log.wait("slo.inconclusive", {
        timeoutMs: 10_000,
        where: (e) => e.data.reason === "unreachable",
      });
      expect(inconclusive.data.detail).toMatch(/no request window/);
      // The reader stays down until the monitor gives up on the window (then the switcher, in
      // the same process, must run again to roll back).
      const final = await stack.log.wait("slo.inconclusive", {
        timeoutMs: 10_000,
        where: (e) => e.data.limitReached === true,
      });
      expect(final.data).toMatchObject({ reason: "unreachable", action: "rollback" });
    } finally {
      process.kill(pid, "SIGCONT");
    }
    const result = await run;
    const events = await stack.events(deploymentIdOf(result.stdout));
    expect(named(events, "monitor.passed")).toHaveLength(0);
    expect(named(events, "deploy.succeeded")).toHaveLength(0);
    expect(result.code, result.stdout + result.stderr).not.toBe(0);
  }, 90_000);

  it("beside direct scrape: the nginx SLO still ends the round early, the other is scraped", async () => {
    await stack.applyDefinition((doc) => {
      doc.setIn(["monitor", "source"], { scrape: true, nginx: {} });
      doc.deleteIn(["monitor", "slos", 1, "nginx"]);
    });
    const { idle } = await colours();
    const run = stack.cli(["deploy", stack.service, "v1.5", "--wait", "--timeout", "50s"]);
    const started = await stack.log.wait("monitor.started", {
      timeoutMs: 40_000,
      where: (e) => e.data.version === "v1.5",
    });
    expect(started.data.source).toBe("scrape");
    const onset = Date.now();
    await setFaults(stack.base.apps[idle], { errorRate: 1 });
    try {
      const result = await run;
      expect(result.code, result.stdout + result.stderr).toBe(5);
      const breach = named(await stack.events(deploymentIdOf(result.stdout)), "slo.breached")[0];
      expect(breach?.data).toMatchObject({ slo: "error-ratio" });
      expect((breach?.data ?? {}) as { query?: string }).toMatchObject({
        query: expect.stringMatching(/^nginx errorRatio/),
      });
      expect(Date.parse(breach?.time ?? "") - onset).toBeLessThan(900);
    } finally {
      await setFaults(stack.base.apps[idle], { errorRate: 0 });
    }
  }, 90_000);

  it("a quiet service with probes: a good version passes on probes, a bad one rolls back", async () => {
    await stack.traffic.stop();
    await stack.applyDefinition((doc) => {
      doc.setIn(["monitor", "source"], {
        nginx: { probe: { request: { method: "GET", path: "/api/v1/memory" }, rate: 20 } },
      });
      doc.setIn(["monitor", "slos", 0, "min_requests"], 5);
    });
    const good = await stack.cli(["deploy", stack.service, "v1.3", "--wait", "--timeout", "50s"]);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    const passed = named(await stack.events(deploymentIdOf(good.stdout)), "monitor.passed")[0];
    const evidence = ((passed?.data ?? {}) as { evidence?: { requests: number; probes: number } })
      .evidence;
    expect(evidence?.probes).toBeGreaterThanOrEqual(20);

    const { idle } = await colours();
    const run = stack.cli(["deploy", stack.service, "v1.4", "--wait", "--timeout", "50s"]);
    await stack.log.wait("monitor.started", {
      timeoutMs: 40_000,
      where: (e) => e.data.version === "v1.4",
    });
    await setFaults(stack.base.apps[idle], { errorRate: 1 });
    try {
      const bad = await run;
      expect(bad.code, bad.stdout + bad.stderr).toBe(5);
      const breach = named(await stack.events(deploymentIdOf(bad.stdout)), "slo.breached")[0];
      const probes = ((breach?.data ?? {}) as { evidence?: { probes: number } }).evidence?.probes;
      expect(probes).toBeGreaterThanOrEqual(1);
    } finally {
      await setFaults(stack.base.apps[idle], { errorRate: 0 });
    }
  }, 90_000);
});
