// `npm run bench -- e2e [--deploys N] [--rollbacks M] [--skip-guide]`: the whole product, real
// everything (nats-server, nginx, Prometheus scraping both nodes every 1 s, the two sample-app
// nodes, the switcher, a node agent per colour, the monitor checking every 1 s, the
// coordinator), with load through nginx the whole time (one request at a time, a new
// connection per request).
//
//   1. deploys:   N deployments through the real `bluegreen deploy --wait` (the bin, as CI runs
//                 it), each watched to the end of its window: requests / failed_requests (no
//                 answer or not 2xx) while they ran.
//   2. idle RSS:  each agent's VmRSS (/proc/<pid>/status) once nothing is in flight.
//   3. guide:     the guide's rollout watch (its PromQL, every 60 s) and its switch script, on
//                 the same stack: fault right after its first check, timed from the fault to
//                 nginx serving the previous colour (bench/e2e-guide.ts). Skipped with
//                 --skip-guide.
//   4. rollbacks: M deployments whose new colour gets 50 % 5xx as soon as `monitor.started`
//                 arrives, timed from the fault to nginx serving the previous colour on fresh
//                 connections (bench/e2e-served.ts); the median is `rollback_p50_ms`.
//   5. nginx:     a second stack whose monitor watches with the nginx source (nginx logs each
//                 request to the switcher's reader, 100 ms windows), under steady traffic of
//                 at least 50 requests a second: M rollbacks as in 4; `rollback_nginx_p50_ms`.
//
// The guide runs before the rollbacks on purpose: its query has no instance label and a 5 min
// rate window, so errors injected into any node in the last 5 minutes would breach its first
// check.
//
// The whole bench stops itself after 7 minutes at most, and leaves no process behind. Ends with
// one JSON line: {"bench":"e2e","deploys":N,"requests":…,"failed_requests":…,
// "rollback_p50_ms":…,"guide_rollback_ms":…,"agent_rss_mb":{…},"rollback_nginx_p50_ms":…,
// "nginx_traffic_rps":…}.

import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { ExitCode } from "@bluegreen/cli";
import { type ActiveRecord, Buckets, type Color } from "@bluegreen/contracts";
import { renderUpstream } from "@bluegreen/switcher";
import type { TrafficSample } from "@bluegreen/testkit";
import {
  bluegreen,
  type CliResult,
  EventLog,
  requestOnce,
  startTraffic,
  type TrafficLoop,
  waitFor,
} from "@bluegreen/testkit";
import { setFaults } from "../scripts/demo/apps.ts";
import { markThisRun, sweep } from "../scripts/demo/cleanup.ts";
import { type DemoStack, startDemoStack } from "../scripts/demo/stack.ts";
import { GUIDE_CHECK_INTERVAL_MS, guideWatch, writeSwitchScript } from "./e2e-guide.ts";
import { servedFrom, type Target } from "./e2e-served.ts";

const BUDGET_MS = 420_000;
/** The nginx phase's stack start-up, kept aside with its rollbacks. */
const NGINX_RESERVE_MS = 30_000;
/** Traffic loops in the nginx phase (one request at a time each, a new connection per request). */
const NGINX_LOOPS = 4;
/** Long enough for the breach to land inside the watch; every successful deploy waits it out. */
const WINDOW = "8s";
const FAULT = { errorRate: 0.5 };
const MAX_DEPLOYS = 20;
const MAX_ROLLBACKS = 10;
/** Time kept for what follows the deploys: the guide (one interval and a bit), each rollback. */
const GUIDE_RESERVE_MS = 80_000;
const ROLLBACK_RESERVE_MS = 20_000;

interface Options {
  readonly deploys: number;
  readonly rollbacks: number;
  readonly guide: boolean;
}

function parseOptions(args: string[]): Options {
  const int = (name: string, fallback: number, max: number) => {
    const i = args.indexOf(`--${name}`);
    const n = i >= 0 ? Number(args[i + 1]) : fallback;
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name}: 1..${max}`);
    return n;
  };
  return {
    deploys: int("deploys", 6, MAX_DEPLOYS),
    rollbacks: int("rollbacks", 3, MAX_ROLLBACKS),
    guide: !args.includes("--skip-guide"),
  };
}

const say = (line: string) => console.log(`e2e: ${line}`);
const other = (c: Color): Color => (c === "blue" ? "green" : "blue");
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** The median, rounded to `digits` decimals (null for no values). */
function median(values: readonly number[], digits = 0): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  const value = ((sorted[Math.floor(mid)] ?? 0) + (sorted[Math.ceil(mid)] ?? 0)) / 2;
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

/** Requests the loop sent in [from, to), and those that got no answer or not a 2xx. */
function tally(samples: readonly TrafficSample[], from: number, to: number) {
  const inside = samples.filter((s) => s.at >= from && s.at < to);
  const failed = inside.filter((s) => s.status < 200 || s.status > 299).length;
  return { requests: inside.length, failed };
}

function rssMb(pid: number): number {
  const kb = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1];
  return Math.round((Number(kb) / 1024) * 10) / 10;
}

async function activeRecord(stack: DemoStack): Promise<ActiveRecord> {
  const entry = await (await stack.js.views.kv(Buckets.active)).get(stack.service);
  if (entry === null) throw new Error("no active record");
  return JSON.parse(new TextDecoder().decode(entry.value)) as ActiveRecord;
}

/** What a colour's node runs now, asked on the node itself. */
async function runningOn(stack: DemoStack, color: Color): Promise<Target> {
  const answer = await requestOnce(`${stack.apps[color].url}/health`);
  if (answer.version === undefined) throw new Error(`${color} does not answer`);
  return { color, version: answer.version };
}

function deploy(stack: DemoStack, version: string, id: string): Promise<CliResult> {
  const args = ["deploy", stack.service, version, "--wait", "--id", id, "--timeout", "90s"];
  return bluegreen(stack.nats.url, args, { timeoutMs: 100_000 });
}

interface Run {
  readonly id: string;
  readonly started: number;
  /** ms of the budget kept for the phases after the deploys. */
  readonly reserveMs: number;
  stack?: DemoStack;
  traffic?: TrafficLoop;
}

/** "(requested → switch.done 1.2 s, → succeeded 11.9 s)", from the events' own times. */
function took(events: EventLog, id: string): string {
  const t = (e: { time: string } | undefined) => (e === undefined ? undefined : Date.parse(e.time));
  const requested = t(events.of("deploy.requested", id)[0]);
  const switched = t(events.of("switch.done", id)[0]);
  const succeeded = t(events.of("deploy.succeeded", id)[0]);
  if (requested === undefined || switched === undefined || succeeded === undefined) return "";
  return ` (requested → switch.done ${secs(switched - requested)}, → succeeded ${secs(succeeded - requested)})`;
}

/** Phase 1: deploys that should succeed, under load. */
async function successfulDeploys(
  run: Run,
  stack: DemoStack,
  traffic: TrafficLoop,
  events: EventLog,
  n: number,
) {
  let succeeded = 0;
  let requests = 0;
  let failed = 0;
  for (let i = 1; i <= n; i++) {
    if (Date.now() + 30_000 > run.started + BUDGET_MS - run.reserveMs) {
      say(`deploy ${i}/${n}: skipped, and the rest (the 7 min budget is running out)`);
      break;
    }
    const version = `v1.${i}`;
    const to = other((await activeRecord(stack)).color);
    const from = Date.now();
    const id = `${run.id}-d${i}`;
    const result = await deploy(stack, version, id);
    const counts = tally(traffic.samples, from, Date.now());
    const ok = result.code === ExitCode.ok;
    if (ok) {
      succeeded++;
      requests += counts.requests;
      failed += counts.failed;
    }
    say(
      `deploy ${i}/${n} ${version} → ${to}: exit ${result.code} in ${secs(Date.now() - from)}${took(events, id)}; ${counts.requests} requests through nginx, ${counts.failed} failed${ok ? "" : ` (not counted: ${result.lines.at(-1) ?? result.stderr.trim()})`}`,
    );
  }
  return { succeeded, requests, failed };
}

/** Each agent's VmRSS by name, in MB. */
function agentRss(stack: DemoStack): Record<string, number> {
  return Object.fromEntries(stack.agents.map((a) => [a.name, rssMb(a.process.pid)]));
}

/** heap used / heap total / external, in MB, from the agent's own /metrics. */
async function heapOf(metricsUrl: string): Promise<string> {
  const text = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })
    .then((r) => r.text())
    .catch(() => "");
  const mb = (name: string) => {
    const value = text.match(new RegExp(`^\\w*${name}(?:\\{[^}]*\\})? (\\S+)$`, "m"))?.[1];
    return value === undefined ? "?" : (Number(value) / 1024 / 1024).toFixed(1);
  };
  return `heap ${mb("nodejs_heap_size_used_bytes")}/${mb("nodejs_heap_size_total_bytes")}, external ${mb("nodejs_external_memory_bytes")}`;
}

/** Phase 2: each agent's resident memory, with nothing in flight. */
async function idleRss(stack: DemoStack, atStart: Record<string, number>) {
  await sleep(2_000); // the last deployment's lock release and follow-ups
  // The median of five samples, half a second apart (a GC may land on any one of them).
  const samples: Record<string, number>[] = [];
  for (let k = 0; k < 5; k++) {
    if (k > 0) await sleep(500);
    samples.push(agentRss(stack));
  }
  const byName: Record<string, number> = {};
  for (const a of stack.agents)
    byName[a.name] =
      median(
        samples.map((x) => x[a.name] ?? 0),
        1,
      ) ?? 0;
  for (const l of await stack.listeners()) {
    const now = byName[l.name];
    if (now === undefined) continue;
    say(
      `idle RSS ${l.name.padEnd(17)} ${now.toFixed(1).padStart(6)} MB (${atStart[l.name]?.toFixed(1)} MB before the deploys; ${await heapOf(l.where)} MB)`,
    );
  }
  const of = (prefix: string) =>
    Math.max(
      ...Object.entries(byName)
        .filter(([name]) => name.startsWith(prefix))
        .map(([, mb]) => mb),
    );
  return {
    "node-agent": of("node-agent"),
    switcher: of("switcher"),
    monitor: of("monitor"),
    coordinator: of("coordinator"),
  };
}

/** Phase 3: the guide's watch on the colour now serving; its switch script takes it back. */
async function guidePhase(run: Run, stack: DemoStack): Promise<number | null> {
  const prometheus = stack.prometheus;
  if (prometheus === undefined) throw new Error("the stack has no Prometheus");
  const serving = (await activeRecord(stack)).color;
  const previous = await runningOn(stack, other(serving));
  const current = await runningOn(stack, serving);
  const def = stack.definition;
  const address = (c: Color) => `${def.nodes[c][0]?.host}:${def.nodes[c][0]?.port}`;
  const scriptPath = `${stack.dir}/switch_blue_green.sh`;
  await writeSwitchScript(scriptPath);
  say(
    `guide: watching ${serving} ${current.version} with monitor_rollout.sh's queries every ${GUIDE_CHECK_INTERVAL_MS / 1000} s; fault right after its first check`,
  );
  let onset: number | undefined;
  let served: Promise<number | undefined> | undefined;
  const deadline = Math.min(
    Date.now() + 2.5 * GUIDE_CHECK_INTERVAL_MS,
    run.started + BUDGET_MS - (run.reserveMs - GUIDE_RESERVE_MS),
  );
  try {
    const outcome = await guideWatch({
      prometheusUrl: prometheus.url,
      deadline,
      switchBack: {
        scriptPath,
        file: def.traffic.file,
        upstream: def.traffic.upstream,
        blue: address("blue"),
        green: address("green"),
        nginx: stack.nginx.testCommand.slice(0, -1),
      },
      log: say,
      onCheck: async (check) => {
        if (check.index !== 0) return;
        onset = Date.now();
        await setFaults(stack.apps[serving], FAULT);
        served = servedFrom(`${stack.nginx.url}/health`, previous, { deadline });
        say(`guide: fault injected into ${serving} (50 % 5xx)`);
      },
    });
    const at = await served;
    if (onset === undefined || outcome.switchedAt === undefined || at === undefined) {
      say("guide: never rolled back before its deadline");
      return null;
    }
    const breachCheck = outcome.checks.at(-1);
    say(
      `guide: fault → breach seen at check ${breachCheck?.index} ${secs((breachCheck?.at ?? onset) - onset)}, → script returned ${secs(outcome.switchedAt - onset)}, → nginx serving ${previous.color} ${previous.version} ${at - onset} ms`,
    );
    return at - onset;
  } finally {
    await restoreRecorded(stack, current);
  }
}

/** Back to what the record says, written as the switcher writes it, so the agents go on. */
async function restoreRecorded(stack: DemoStack, current: Target): Promise<void> {
  const color = current.color as Color;
  await setFaults(stack.apps[color], { errorRate: 0 });
  const def = stack.definition;
  await writeFile(def.traffic.file, renderUpstream(def, color, `e2e-restore-${Date.now()}`));
  await stack.nginx.reload();
  const back = await servedFrom(`${stack.nginx.url}/health`, current, {
    deadline: Date.now() + 10_000,
  });
  if (back === undefined) throw new Error(`nginx did not serve ${color} again after the guide`);
  say(`guide: upstream file restored to ${color} (the recorded colour), faults cleared`);
}

/** Phase 4: deploys whose new colour fails as the watch starts; fault → previous colour. */
async function rollbacks(run: Run, stack: DemoStack, events: EventLog, m: number) {
  const times: number[] = [];
  for (let j = 1; j <= m; j++) {
    if (Date.now() + ROLLBACK_RESERVE_MS > run.started + BUDGET_MS) {
      say(`rollback ${j}/${m}: skipped, and the rest (the 7 min budget is running out)`);
      break;
    }
    const version = `v2.${j}`;
    const id = `${run.id}-r${j}`;
    const record = await activeRecord(stack);
    const previous = await runningOn(stack, record.color);
    const target = other(record.color);
    const cli = deploy(stack, version, id);
    const ended = cli.then(() => undefined);
    const started = await Promise.race([
      events.wait("monitor.started", { deploymentId: id, timeoutMs: 60_000 }),
      ended,
    ]).catch(() => undefined);
    if (started === undefined) {
      const result = await cli;
      say(`rollback ${j}/${m} ${version}: no monitor.started (exit ${result.code})`);
      continue;
    }
    const onset = Date.now();
    await setFaults(stack.apps[target], FAULT);
    const at = await servedFrom(`${stack.nginx.url}/health`, previous, {
      deadline: onset + 30_000,
    });
    const result = await cli;
    await setFaults(stack.apps[target], { errorRate: 0 }).catch(() => undefined);
    const since = (t: string | undefined) => (t === undefined ? "-" : `${Date.parse(t) - onset}`);
    const breached = events.of("slo.breached", id)[0];
    const back = events.of("switch.done", id).find((e) => e.data.reason === "rollback");
    const rolledBack = result.code === ExitCode.rolledBack;
    if (at !== undefined && rolledBack) times.push(at - onset);
    say(
      `rollback ${j}/${m} ${version} on ${target}: fault → slo.breached ${since(breached?.time)} ms, → switch.done ${since(back?.time)} ms, → nginx serving ${previous.color} ${previous.version} ${at === undefined ? "never" : `${at - onset} ms`}; exit ${result.code}${rolledBack ? "" : " (not 5: not counted)"}`,
    );
  }
  return times;
}

/** Phase 5: the same rollbacks on a stack watched with the nginx source, ≥ 50 requests a second. */
async function nginxPhase(run: Run, m: number): Promise<{ times: number[]; rps: number | null }> {
  await run.traffic?.stop();
  await run.stack?.stop();
  run.traffic = undefined;
  say("nginx: a second stack, watched with the nginx source");
  const stack = await startDemoStack({ nginxSource: true, window: WINDOW, log: say });
  run.stack = stack;
  const loops = Array.from({ length: NGINX_LOOPS }, () =>
    startTraffic({ url: `${stack.nginx.url}/api/v1/memory`, pauseMs: 5, maxDurationMs: BUDGET_MS }),
  );
  run.traffic = {
    samples: [],
    stop: async () => void (await Promise.all(loops.map((l) => l.stop()))),
  };
  const from = Date.now();
  const events = new EventLog(stack.nc);
  const times = await rollbacks({ ...run, id: `${run.id}-n` }, stack, events, m);
  const seconds = (Date.now() - from) / 1000;
  const sent = loops.reduce((a, l) => a + l.samples.filter((x) => x.at >= from).length, 0);
  const rps = seconds > 0 ? Math.round(sent / seconds) : null;
  say(
    `nginx: rollbacks, fault → nginx serving the previous colour: ${JSON.stringify(times)} ms; traffic ${rps} requests/s`,
  );
  events.stop();
  return { times, rps };
}

async function shutdown(run: Run): Promise<void> {
  await run.traffic?.stop();
  await run.stack?.stop().catch((error: unknown) => say(`stopping the stack: ${String(error)}`));
  const swept = await sweep(process.env.BLUEGREEN_DEMO_RUN ?? "-");
  if (swept.length > 0) say(`killed processes left behind: ${swept.join(", ")}`);
}

export default async function e2e(args: string[]): Promise<void> {
  const opts = parseOptions(args);
  const run: Run = {
    id: `e2e-${markThisRun().slice(5)}`,
    started: Date.now(),
    reserveMs:
      (opts.guide ? GUIDE_RESERVE_MS : 0) +
      NGINX_RESERVE_MS +
      2 * opts.rollbacks * ROLLBACK_RESERVE_MS,
  };
  const watchdog = setTimeout(() => {
    say(`over the ${BUDGET_MS / 1000} s budget: stopping everything`);
    setTimeout(() => process.exit(1), 20_000).unref();
    void shutdown(run).finally(() => process.exit(1));
  }, BUDGET_MS);
  watchdog.unref();
  say(
    `${opts.deploys} deploys, ${opts.rollbacks} rollbacks${opts.guide ? ", the guide's loop" : ""}; load average ${load()}`,
  );
  let result: Record<string, unknown>;
  try {
    // The guide's phase switches nginx by hand: a switcher reapplying its record over that
    // (its drift check) would undo it; it only reports it.
    const stack = await startDemoStack({
      prometheus: true,
      window: WINDOW,
      log: say,
      onDrift: "report",
    });
    run.stack = stack;
    const prometheus = stack.prometheus;
    await waitFor(
      async () => {
        const up = (await prometheus?.query("up")) ?? [];
        return up.length === 2 && up.every((s) => s.value === 1) ? true : undefined;
      },
      { what: "Prometheus scraping both nodes", timeoutMs: 30_000, intervalMs: 250 },
    );
    const events = new EventLog(stack.nc);
    const traffic = startTraffic({
      url: `${stack.nginx.url}/api/v1/memory`,
      pauseMs: 40,
      maxDurationMs: BUDGET_MS,
    });
    run.traffic = traffic;
    const rssAtStart = agentRss(stack);
    say(`stack up in ${secs(Date.now() - run.started)}; blue serves v1.0; load average ${load()}`);

    const deploys = await successfulDeploys(run, stack, traffic, events, opts.deploys);
    const rss = await idleRss(stack, rssAtStart);
    const guideMs = opts.guide ? await guidePhase(run, stack) : null;
    const times = await rollbacks(run, stack, events, opts.rollbacks);
    const p50 = median(times);
    say(`rollbacks, fault → nginx serving the previous colour: ${JSON.stringify(times)} ms`);
    if (p50 !== null && guideMs !== null) {
      say(`p50 ${p50} ms against the guide's ${guideMs} ms: ${(guideMs / p50).toFixed(1)}× faster`);
    }
    const nginx = await nginxPhase(run, opts.rollbacks);
    say(`took ${secs(Date.now() - run.started)}; load average ${load()}`);
    result = {
      bench: "e2e",
      deploys: deploys.succeeded,
      requests: deploys.requests,
      failed_requests: deploys.failed,
      rollback_p50_ms: p50,
      guide_rollback_ms: guideMs,
      agent_rss_mb: rss,
      rollback_nginx_p50_ms: median(nginx.times),
      nginx_traffic_rps: nginx.rps,
    };
  } finally {
    clearTimeout(watchdog);
    await shutdown(run);
  }
  console.log(JSON.stringify(result));
}
