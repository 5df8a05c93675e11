// `npm run bench -- notify [--events N] [--outage S]`: the notifier agent (its bin) against two
// webhook receivers on loopback. N routed events (default 1000) are published at an even pace
// over ~S + 10 s; one receiver is down for S seconds (default 20) in the middle, the other stays
// up. Measured: every delivery's arrival against its event's publish time, duplicates and losses
// per receiver once the down one has caught up.
//
// Ends with one JSON line:
// {"bench":"notify","events":…,"delivered":…,"duplicates":0,"lost":0,"delivery_p99_ms":…,"outage_s":…}
// (`delivery_p99_ms` over the deliveries to the receiver that stayed up).

import { type BgEvent, createEvent } from "@bluegreen/contracts";
import {
  agentConfig,
  makeTempDir,
  publishEvent,
  startAgent,
  startNats,
  startWebhookReceiver,
  waitFor,
} from "@bluegreen/testkit";
import { connect } from "nats";

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

export default async function notify(args: string[]): Promise<void> {
  const total = option(args, "events", 1000);
  const outageS = option(args, "outage", 20);
  const secret = "bench-signing-secret";
  await using dir = await makeTempDir("bench-notify");
  await using nats = await startNats();
  const nc = await connect({ ...nats.connectOptions });
  const js = nc.jetstream();
  const published = new Map<string, number>();
  const upLatency: number[] = [];
  await using up = await startWebhookReceiver({
    secret,
    onReceive: (r) => {
      const sent = published.get((r.json as BgEvent).id);
      if (sent !== undefined) upLatency.push(r.at - sent);
    },
  });
  await using down = await startWebhookReceiver({ secret });
  const sink = (name: string, url: string) => ({
    name,
    type: "webhook",
    url,
    signing_secret: { env: "BG_BENCH_SECRET" },
    rate_per_second: 500,
    concurrency: 8,
    timeout: "2s",
  });
  const agent = await startAgent(
    "notifier",
    "notifier-bench",
    dir.path,
    agentConfig("notifier", "notifier-bench", nats.url, {
      sinks: [sink("up", `${up.url}/`), sink("down", `${down.url}/`)],
      routes: [{ services: ["emily"], events: ["deploy.*"], sinks: ["up", "down"] }],
      delivery: { max_tries: 100, max_age: "10m", backoff: "500ms", backoff_max: "2s" },
    }),
    { env: { BG_BENCH_SECRET: secret } },
  );
  try {
    const spanMs = (outageS + 10) * 1000;
    const gapMs = spanMs / total;
    const ids: string[] = [];
    const started = Date.now();
    let downAt = 0;
    let upAt = 0;
    for (let i = 0; i < total; i++) {
      const at = started + i * gapMs;
      const wait = at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (downAt === 0 && Date.now() - started >= 5_000) {
        await down.down();
        downAt = Date.now();
      }
      if (downAt !== 0 && upAt === 0 && Date.now() - downAt >= outageS * 1000) {
        await down.up();
        upAt = Date.now();
      }
      const event = createEvent("deploy.succeeded", {
        service: "emily",
        source: "bluegreen/coordinator/bench",
        deploymentId: `d-bench-${i}`,
        id: `bench-${started}-${i}`,
        data: { version: `v1.${i}`, color: "green", previousColor: "blue", durationMs: 1000 },
      });
      published.set(event.id, Date.now());
      ids.push(event.id);
      await publishEvent(js, event);
    }
    if (upAt === 0) {
      await new Promise((r) => setTimeout(r, Math.max(0, downAt + outageS * 1000 - Date.now())));
      await down.up();
      upAt = Date.now();
    }
    const complete = (r: typeof up) => ids.every((id) => r.count(id) > 0);
    await waitFor(() => (complete(up) && complete(down) ? true : undefined), {
      what: "every delivery to both receivers",
      timeoutMs: 120_000,
      intervalMs: 200,
      process: agent.process,
    });
    await new Promise((r) => setTimeout(r, 2_000));
    const lost =
      ids.filter((id) => up.count(id) === 0).length +
      ids.filter((id) => down.count(id) === 0).length;
    const duplicates = up.duplicates().length + down.duplicates().length;
    const delivered =
      ids.filter((id) => up.count(id) > 0).length + ids.filter((id) => down.count(id) > 0).length;
    const unsigned = [...up.received, ...down.received].filter((r) => !r.signed).length;
    const sorted = [...upLatency].sort((a, b) => a - b);
    const actualOutage = Math.round((upAt - downAt) / 100) / 10;
    console.log(`events: ${total} published over ${Math.round((Date.now() - started) / 1000)} s`);
    console.log(
      `receiver "down" was down for ${actualOutage} s; deliveries with a bad signature: ${unsigned}`,
    );
    console.log(
      `delivery to the receiver that stayed up: p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms, max ${sorted.at(-1)} ms`,
    );
    console.log(
      JSON.stringify({
        bench: "notify",
        events: total,
        delivered,
        duplicates,
        lost,
        delivery_p99_ms: percentile(sorted, 99),
        outage_s: actualOutage,
      }),
    );
  } finally {
    await agent.stop();
    await nc.close();
  }
}
