// `npm run bench -- dashboard [--services 1000] [--concurrent 20]`: the dashboard (started as
// users start it, `bluegreen dashboard`) over a real nats-server and coordinator with 1 000
// service definitions, lightweight simulated agents answering in-process, and Debian's
// chromium showing the fleet page. Measured in the browser:
//   fleet_load_ms:          navigation start → the fleet table rendered with every service
//                           (the median of three loads);
//   event_to_screen_p95_ms: an event published (seen on the bus) → its row updated on the
//                           page (a performance mark the page sets), over every event of
//                           rounds of `concurrent` deployments at once, until at least 200;
//   lost:                   events published and never shown.
// Ends with one JSON line: {"bench":"dashboard","services":…,"fleet_load_ms":…,
// "event_to_screen_p95_ms":…,"events":…,"lost":0}.

import {
  type BgEvent,
  createEvent,
  encodeEvent,
  eventSubject,
  STREAM_NAME,
} from "@bluegreen/contracts";
import { ensureBuckets, ensureStream } from "@bluegreen/runtime";
import {
  coordinatorConfig,
  launchChromium,
  makeTempDir,
  SimAgents,
  startAgent,
  startDashboardProcess,
  startNats,
  waitFor,
} from "@bluegreen/testkit";
import { connect } from "nats";
import { percentile, round, serviceName, simHeartbeats, storeDefinitions } from "./fleet.ts";

const MIN_EVENTS = 200;
const DEADLINE_MS = 120_000;

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const n = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(n) || n < 1 || n > 5_000) throw new Error(`--${name}: 1..5000`);
  return n;
}

export default async function dashboard(args: string[]): Promise<void> {
  const services = option(args, "services", 1_000);
  const concurrent = Math.min(services, option(args, "concurrent", 20));
  await using nats = await startNats({ jetstream: true });
  await using tmp = await makeTempDir("dashboard-bench");
  const nc = await connect({ servers: nats.url });
  const js = nc.jetstream();
  await ensureStream(await nc.jetstreamManager(), { maxAgeMs: 86_400_000, replicas: 1 });
  const kv = await ensureBuckets(js, { replicas: 1 });
  await storeDefinitions(kv.services, services);
  const sim = await new SimAgents(nc, { delayMs: 20 }).start();
  for (let i = 0; i < services; i++)
    await sim.seedActive(serviceName(i), {
      color: "blue",
      version: "v1.0",
      switchedAt: new Date().toISOString(),
      reason: "adopted",
    });
  const stopBeating = await simHeartbeats(kv.agents);
  const coordinator = await startAgent(
    "coordinator",
    "coordinator-dashboard",
    tmp.path,
    coordinatorConfig(nats.url, "coordinator-dashboard", { heartbeat_max_age: "30s" }),
    { startTimeoutMs: 60_000 },
  );
  const server = await startDashboardProcess(nats.url, ["--read-only"]);
  await using browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });

  // The fleet page, three times: navigation start → the table rendered with every row.
  const loads: number[] = [];
  for (let i = 0; i < 3; i++) {
    await page.goto(`${server.url}/?load=${i}`);
    await page.waitForSelector(`#rows[data-loaded="${services}"]`, { timeout: 30_000 });
    loads.push(
      await page.evaluate(
        () => performance.getEntriesByName("bg-fleet-rendered")[0]?.startTime ?? Number.NaN,
      ),
    );
  }
  const fleetLoadMs = percentile(loads, 50);
  console.log(`dashboard: fleet of ${services} rendered in ${loads.map(Math.round).join(", ")} ms`);

  // Rounds of deployments at once; every event of them is timed from the bus to the page.
  const published = new Map<string, number>();
  const deploying = new Set<string>();
  const ended = new Set<string>();
  const sub = nc.subscribe("bluegreen.*.*.*", {
    callback: (err, msg) => {
      if (err) return;
      const e = JSON.parse(new TextDecoder().decode(msg.data)) as BgEvent;
      if (!deploying.has(e.subject)) return;
      published.set(e.id, Date.now());
      if (/deploy\.(succeeded|failed|rejected|rolled_back)$/.test(e.type) && e.deploymentid)
        ended.add(e.deploymentid);
    },
  });
  let round_ = 0;
  while (published.size < MIN_EVENTS) {
    round_++;
    const ids = Array.from({ length: concurrent }, (_, i) => `d-dash-${round_}-${i}`);
    await Promise.all(
      ids.map(async (deploymentId, i) => {
        const service = serviceName(i * Math.floor(services / concurrent));
        deploying.add(service);
        const event = createEvent("deploy.requested", {
          service,
          source: "bluegreen/bench/dashboard",
          deploymentId,
          id: `${deploymentId}.request`,
          data: { version: `v1.${round_}`, requestedBy: "bench" },
        });
        await js.publish(eventSubject(service, "deploy.requested"), encodeEvent(event), {
          msgID: event.id,
          expect: { streamName: STREAM_NAME },
        });
      }),
    );
    await waitFor(() => (ids.every((id) => ended.has(id)) ? true : undefined), {
      what: `round ${round_}: ${concurrent} deployments to end`,
      timeoutMs: DEADLINE_MS,
      intervalMs: 100,
    });
  }
  // What the page shows a moment after the last event.
  await new Promise((r) => setTimeout(r, 1_000));
  const shown = new Map<string, number>(
    await page.evaluate(() =>
      performance
        .getEntriesByType("mark")
        .filter((m) => m.name.startsWith("bg-event:"))
        .map((m) => [m.name.slice(9), performance.timeOrigin + m.startTime] as [string, number]),
    ),
  );
  const latencies: number[] = [];
  let lost = 0;
  for (const [id, at] of published) {
    const seen = shown.get(id);
    if (seen === undefined) lost++;
    else latencies.push(Math.max(0, seen - at));
  }
  sub.unsubscribe();
  stopBeating();
  await server.stop();
  await sim.stop();
  await coordinator.stop();
  await nc.drain();
  const p95 = percentile(latencies, 95);
  console.log(
    `dashboard: ${published.size} events of ${round_ * concurrent} deployments (${round_} round(s) of ${concurrent}); event → screen p50 ${round(percentile(latencies, 50))} ms, p95 ${round(p95)} ms, max ${round(Math.max(...latencies))} ms; lost ${lost}`,
  );
  console.log(
    JSON.stringify({
      bench: "dashboard",
      services,
      fleet_load_ms: round(fleetLoadMs),
      event_to_screen_p95_ms: round(p95),
      events: published.size,
      lost,
    }),
  );
}
