// `npm run bench -- detect [--runs N]`: how fast the monitor turns a fault into `slo.breached`.
// Real NATS, real blue/green sample apps under steady traffic, a real Prometheus scraping
// every second, the monitor as a child process checking every second. Each run promotes
// green, lets the watch see it healthy, injects 50 % 5xx into green at a random point of the
// check interval, and times fault onset → `slo.breached` (the event's own timestamp), once per
// source, runs interleaved.

import { setTimeout as sleep } from "node:timers/promises";
import {
  applyWatchDefinition,
  connectClient,
  promote,
  startApiTraffic,
  startMonitorProcess,
  startNats,
  startPrometheus,
  startSampleApp,
  waitFor,
} from "@bluegreen/testkit";

const ERROR_RATIO =
  '(sum(rate(http_requests_total{instance="${instance}",status=~"5.."}[5s])) or vector(0)) / sum(rate(http_requests_total{instance="${instance}"}[5s]))';
const GUIDE_INTERVAL_MS = 60_000;
const MAX_RUNS = 20;

type Source = "prometheus" | "scrape";

function parseRuns(args: string[]): number {
  const i = args.indexOf("--runs");
  const value = i >= 0 ? Number(args[i + 1]) : 5;
  if (!Number.isInteger(value) || value < 1 || value > MAX_RUNS) {
    throw new Error(`--runs must be an integer from 1 to ${MAX_RUNS}`);
  }
  return value;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return (sorted[lo] ?? 0) + ((sorted[hi] ?? 0) - (sorted[lo] ?? 0)) * (rank - lo);
}

export default async function detect(args: string[]): Promise<void> {
  const runs = parseRuns(args);
  const started = Date.now();
  const nats = await startNats({ jetstream: true });
  const [blue, green] = await Promise.all([
    startSampleApp({ color: "blue", version: "v1.0" }),
    startSampleApp({ color: "green", version: "v1.1" }),
  ]);
  const [prom, monitor, stack] = await Promise.all([
    startPrometheus({ scrapeTargets: [blue.instance, green.instance], scrapeInterval: "1s" }),
    startMonitorProcess({ nats, agentId: "monitor-bench" }),
    connectClient(nats.url),
  ]);
  const traffic = startApiTraffic([blue.url, green.url], { perApp: 2 });
  const timings: Record<Source, number[]> = { prometheus: [], scrape: [] };
  try {
    const slo = { name: "error-ratio", max: 0.05, on_breach: "rollback" };
    const monitorSection = (source: Source) => ({
      window: "10m",
      interval: "1s",
      source:
        source === "prometheus"
          ? { prometheus: prom.url, timeout: "1s" }
          : { scrape: true, timeout: "1s" },
      slos: [
        source === "prometheus"
          ? { ...slo, query: ERROR_RATIO }
          : { ...slo, scrape: { errorRatio: {} } },
      ],
    });
    const greenRatio = ERROR_RATIO.replaceAll("${instance}", green.instance);
    await waitFor(async () => ((await prom.query(greenRatio))[0]?.value === 0 ? true : undefined), {
      what: "green's error ratio in Prometheus",
      timeoutMs: 20_000,
    });

    for (let run = 1; run <= runs; run++) {
      for (const source of ["prometheus", "scrape"] as const) {
        const service = `detect-${source === "prometheus" ? "prom" : "scrape"}-${run}`;
        const deploymentId = `d-${service}`;
        await applyWatchDefinition(stack, {
          service,
          blue: blue.instance,
          green: green.instance,
          monitor: monitorSection(source),
        });
        if (source === "prometheus") {
          // Given green healthy in Prometheus' 5 s window (the previous run's errors are gone).
          await waitFor(
            async () => ((await prom.query(greenRatio))[0]?.value === 0 ? true : undefined),
            { what: "green's error ratio back at 0", timeoutMs: 20_000 },
          );
        }
        await promote(stack, service, deploymentId);
        await stack.log.wait("monitor.started", { deploymentId });
        // Two clean checks before the fault, which lands at a random point of the check interval
        // (a fixed delay would always hit the same phase and flatter or wrong the figures).
        await sleep(2_000 + Math.floor(Math.random() * 1_000));
        if (stack.log.of("slo.breached", deploymentId).length > 0)
          throw new Error(`${service} breached before the fault`);
        const onset = Date.now();
        await green.setFaults({ errorRate: 0.5 });
        try {
          const breached = await stack.log.wait("slo.breached", {
            deploymentId,
            timeoutMs: 30_000,
          });
          const ms = Date.parse(breached.time) - onset;
          timings[source].push(ms);
          console.log(
            `run ${run} ${source.padEnd(10)} fault → slo.breached ${String(ms).padStart(5)} ms (value ${breached.data.value.toFixed(3)}, check ${breached.data.checks})`,
          );
        } finally {
          await green.setFaults({ errorRate: 0 });
        }
        // End the watch as the coordinator's rollback would, so the service is quiet.
        await stack.bus.emit("deploy.rolled_back", {
          service,
          deploymentId,
          data: {
            version: "v1.1",
            from: "green",
            to: "blue",
            cause: "slo_breach",
            timeToRollbackMs: 0,
          },
        });
      }
    }
  } finally {
    await traffic.stop();
    await monitor.stop();
    await stack.close();
    await Promise.all([prom.stop(), blue.stop(), green.stop()]);
    await nats.stop();
  }

  const summary = (source: Source) => {
    const t = timings[source];
    return `${source.padEnd(10)} p50 ${percentile(t, 50).toFixed(0)} ms, p90 ${percentile(t, 90).toFixed(0)} ms, max ${Math.max(...t)} ms`;
  };
  const promP50 = Math.round(percentile(timings.prometheus, 50));
  const scrapeP50 = Math.round(percentile(timings.scrape, 50));
  console.log(
    `\n${runs} runs per source, 1 s check interval, 1 s Prometheus scrape, 50 % 5xx injected`,
  );
  console.log(summary("prometheus"));
  console.log(summary("scrape"));
  console.log(
    `the guide checks every ${GUIDE_INTERVAL_MS} ms: ${(GUIDE_INTERVAL_MS / promP50).toFixed(1)}× (Prometheus), ${(GUIDE_INTERVAL_MS / scrapeP50).toFixed(1)}× (scrape) faster`,
  );
  console.log(`bench took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(
    JSON.stringify({
      bench: "detect",
      runs,
      prometheus_p50_ms: promP50,
      scrape_p50_ms: scrapeP50,
      guide_interval_ms: GUIDE_INTERVAL_MS,
    }),
  );
}
