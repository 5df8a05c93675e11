// `npm run bench -- detect [--runs N]`: how fast the monitor turns a fault into `slo.breached`.
// Real NATS, real blue/green sample apps under steady traffic, a real Prometheus scraping
// every second, the monitor as a child process checking every second. Each run promotes
// green, lets the watch see it healthy, injects 50 % 5xx into green at a random point of the
// check interval, and times fault onset → `slo.breached` (the event's own timestamp), once per
// source, runs interleaved. Sources: Prometheus, direct scrape, and nginx (a real nginx in
// front of green logging each request to a real switcher's request-log reader, 100 ms windows).
//
// In the same run, the guide's loop at the same cadence (monitor_rollout.sh's query and 0.05
// threshold, checked every 1 s instead of 60 s, Prometheus scraping every 1 s): each guide run
// faults a fresh sample app of its own (the query's 5 min rate window would still hold the
// errors of an earlier run), and its query is scoped to that app's instance (the guide's has no
// instance label and reads the first series: scoping only helps it). Timed fault → the check
// that sees the rate over 0.05.

import { setTimeout as sleep } from "node:timers/promises";
import {
  agentConfig,
  applyWatchDefinition,
  connectClient,
  freePort,
  makeTempDir,
  promote,
  type SampleAppHandle,
  startAgent,
  startApiTraffic,
  startMonitorProcess,
  startNats,
  startNginx,
  startPrometheus,
  startSampleApp,
  waitFor,
} from "@bluegreen/testkit";
import { REQUEST_LOG_FORMAT } from "../scripts/demo/site.ts";
import { firstValue, GUIDE_MAX_ERROR_RATE } from "./e2e-guide.ts";

const ERROR_RATIO =
  '(sum(rate(http_requests_total{instance="${instance}",status=~"5.."}[5s])) or vector(0)) / sum(rate(http_requests_total{instance="${instance}"}[5s]))';
const GUIDE_INTERVAL_MS = 60_000;
const MAX_RUNS = 20;

type Source = "prometheus" | "scrape" | "nginx";
const NGINX_SERVICE = "detect-nginx";
const GUIDE_EQUAL_CADENCE_MS = 1_000;

/** The guide's error query, scoped to one instance (its own has no label: see the top). */
const guideQuery = (instance: string) =>
  `rate(http_requests_total{instance="${instance}",status=~"5.."}[5m])`;

/**
 * monitor_rollout.sh's loop at a 1 s cadence on one app: checks (from a random phase), faults
 * the app after the first check, and resolves with fault onset → the check over 0.05.
 */
async function guideRun(promUrl: string, app: SampleAppHandle): Promise<number> {
  const traffic = startApiTraffic([app.url], { perApp: 2 });
  try {
    await sleep(Math.floor(Math.random() * GUIDE_EQUAL_CADENCE_MS));
    let onset: number | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const rate = await firstValue(promUrl, guideQuery(app.instance));
      if (onset !== undefined && (rate ?? 0) > GUIDE_MAX_ERROR_RATE) return Date.now() - onset;
      if (onset === undefined) {
        // The fault lands somewhere inside the sleep that follows the first check.
        const offset = Math.floor(Math.random() * GUIDE_EQUAL_CADENCE_MS);
        setTimeout(() => {
          onset = Date.now();
          void app.setFaults({ errorRate: 0.5 });
        }, offset);
      }
      await sleep(GUIDE_EQUAL_CADENCE_MS);
    }
    throw new Error(`the guide's loop never saw ${app.instance} over ${GUIDE_MAX_ERROR_RATE}`);
  } finally {
    await traffic.stop();
  }
}

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
  const [blue, green, ...guideApps] = await Promise.all([
    startSampleApp({ color: "blue", version: "v1.0" }),
    startSampleApp({ color: "green", version: "v1.1" }),
    ...Array.from({ length: runs }, (_, i) =>
      startSampleApp({ color: "green", version: `guide-${i + 1}` }),
    ),
  ]);
  const logPort = await freePort();
  const dir = await makeTempDir("detect");
  const nginx = await startNginx({
    siteConfig: ({ host, port }) => `${REQUEST_LOG_FORMAT}
upstream detect_green { server ${green.instance}; }
server {
    listen ${host}:${port};
    access_log syslog:server=127.0.0.1:${logPort},tag=bluegreen,nohostname bluegreen_json;
    location / { proxy_pass http://detect_green; }
}
`,
  });
  const [prom, monitor, stack, switcher] = await Promise.all([
    startPrometheus({
      scrapeTargets: [blue.instance, green.instance, ...guideApps.map((a) => a.instance)],
      scrapeInterval: "1s",
    }),
    startMonitorProcess({ nats, agentId: "monitor-bench" }),
    connectClient(nats.url),
    // The request-log reader lives in the switcher (it serves a service with no definition).
    startAgent(
      "switcher",
      "switcher",
      dir.path,
      agentConfig("switcher", "switcher-bench", nats.url, {
        services: [NGINX_SERVICE],
        on_drift: "report",
        request_logs: [{ service: NGINX_SERVICE, listen: `udp://127.0.0.1:${logPort}` }],
      }),
    ),
  ]);
  // Green gets its traffic through nginx (the nginx source sees only what nginx proxies).
  const traffic = startApiTraffic([blue.url, green.url, nginx.url], { perApp: 2 });
  const timings: Record<Source | "guide", number[]> = {
    prometheus: [],
    scrape: [],
    nginx: [],
    guide: [],
  };
  try {
    const slo = { name: "error-ratio", max: 0.05, on_breach: "rollback" };
    const monitorSection = (source: Source) => ({
      window: "10m",
      interval: "1s",
      source:
        source === "prometheus"
          ? { prometheus: prom.url, timeout: "1s" }
          : source === "scrape"
            ? { scrape: true, timeout: "1s" }
            : { nginx: {} },
      slos: [
        source === "prometheus"
          ? { ...slo, query: ERROR_RATIO }
          : source === "scrape"
            ? { ...slo, scrape: { errorRatio: {} } }
            : { ...slo, nginx: { errorRatio: {} }, min_requests: 3 },
      ],
    });
    const greenRatio = ERROR_RATIO.replaceAll("${instance}", green.instance);
    await waitFor(async () => ((await prom.query(greenRatio))[0]?.value === 0 ? true : undefined), {
      what: "green's error ratio in Prometheus",
      timeoutMs: 20_000,
    });

    for (let run = 1; run <= runs; run++) {
      for (const source of ["prometheus", "scrape", "nginx"] as const) {
        const service =
          source === "nginx"
            ? NGINX_SERVICE
            : `detect-${source === "prometheus" ? "prom" : "scrape"}-${run}`;
        const deploymentId = `d-${service}-${run}`;
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
        // The next source's watch starts on the same green app: the 5xx of requests in flight
        // when the fault was cleared still reach nginx's log (the nginx source's first
        // windows) for a moment after. Without this pause the nginx run after the scrape run
        // could breach before its own fault.
        await sleep(1_000);
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
      const app = guideApps[run - 1] as SampleAppHandle;
      const ms = await guideRun(prom.url, app);
      timings.guide.push(ms);
      console.log(
        `run ${run} ${"guide@1s".padEnd(10)} fault → rate over 0.05 ${String(ms).padStart(5)} ms`,
      );
      await app.setFaults({ errorRate: 0 });
    }
  } finally {
    await traffic.stop();
    await monitor.stop();
    await stack.close();
    await switcher.stop();
    await Promise.all([
      prom.stop(),
      nginx.stop(),
      blue.stop(),
      green.stop(),
      ...guideApps.map((a) => a.stop()),
    ]);
    await dir.remove();
    await nats.stop();
  }

  const summary = (source: Source | "guide") => {
    const t = timings[source];
    return `${source.padEnd(10)} p50 ${percentile(t, 50).toFixed(0)} ms, p90 ${percentile(t, 90).toFixed(0)} ms, max ${Math.max(...t)} ms`;
  };
  const promP50 = Math.round(percentile(timings.prometheus, 50));
  const scrapeP50 = Math.round(percentile(timings.scrape, 50));
  const nginxP50 = Math.round(percentile(timings.nginx, 50));
  const guideP50 = Math.round(percentile(timings.guide, 50));
  console.log(
    `\n${runs} runs per source, 1 s check interval, 1 s Prometheus scrape, 50 % 5xx injected`,
  );
  console.log(summary("prometheus"));
  console.log(summary("scrape"));
  console.log(summary("nginx"));
  console.log(summary("guide"));
  console.log(
    `the guide's loop at the same 1 s cadence: ${guideP50} ms; nginx ${(guideP50 / nginxP50).toFixed(1)}× faster`,
  );
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
      nginx_p50_ms: nginxP50,
      guide_equal_cadence_p50_ms: guideP50,
      nginx_vs_guide_ratio: Number((guideP50 / nginxP50).toFixed(2)),
    }),
  );
}
