// `npm run bench -- switch [--n N]`: the switcher against nginx's own floor and the guide's
// script, on real nginx with the example emily site and two sample apps.
//
//   1. agent:  N switches through the agent, timed from publishing switch.requested to
//              receiving switch.done (fence, probe, write, nginx -t, reload, verify, record).
//   2. load:   N more switches, back to back, while a bounded client (new connection per
//              request, in a worker thread) sends requests through nginx: requests /
//              failed_requests.
//   3. keep-alive: N switches under a kept-alive client, to count the stale keep-alive race.
//   4. floor:  N plain `nginx -t && nginx -s reload` after writing the file, timed until the new
//              colour first answers through nginx (and how long the old colour still answers).
//   5. guide:  N runs of the guide's switch_blue_green.sh logic (grep | awk, sed -i, nginx -t,
//              nginx -s reload), timed until it returns and until the new colour answers.
//
// Phases 1, 4 and 5 are interleaved (agent, floor, guide, agent, …), each run starting with
// nginx settled from the previous reload (250 ms: nginx's master pauses 100 ms after starting
// new workers before it retires the old ones, and takes the next reload only then).
//
// Ends with one JSON line: {"bench":"switch","switches":N,"p50_ms",…}.

import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import type { BgEvent, Color } from "@bluegreen/contracts";
import { colorOfAnswer, renderUpstream, verifyThroughNginx } from "@bluegreen/switcher";
import {
  getOnce,
  type LoadResult,
  RIG_SERVICE as SERVICE,
  SwitcherRig,
  startLoad,
  total,
} from "@bluegreen/testkit";
import { writeSwitchScript } from "./e2e-guide.ts";

const DEFAULT_N = 30;
const MAX_N = 200;
const LOAD_CONCURRENCY = 4;
const LOAD_BUDGET = 50_000;
/** How long after the first new-colour answer the floor runs keep looking for the old colour. */
const OVERLAP_WINDOW_MS = 250;

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

const round = (n: number) => Math.round(n * 10) / 10;
const other = (c: Color): Color => (c === "blue" ? "green" : "blue");

function run(argv: readonly string[]): Promise<void> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(cmd as string, args, (err, _stdout, stderr) =>
      err ? reject(new Error(`${argv.join(" ")}: ${stderr || err.message}`)) : resolve(),
    );
  });
}

function parseN(args: string[]): number {
  const i = args.indexOf("--n");
  const raw = i >= 0 ? args[i + 1] : args.find((a) => a.startsWith("--n="))?.slice(4);
  const n = raw === undefined ? DEFAULT_N : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_N) {
    throw new Error(`--n must be an integer from 1 to ${MAX_N}`);
  }
  return n;
}

/** Answers to requests, straight from a core subscription (no polling in the measurement). */
function answers(rig: SwitcherRig) {
  const waiting = new Map<string, (e: BgEvent) => void>();
  const sub = rig.nc.subscribe(`bluegreen.${SERVICE}.switch.*`, {
    callback: (_err, msg) => {
      const event = JSON.parse(msg.string()) as BgEvent;
      if (event.type === "bluegreen.switch.requested") return;
      const requestId = event.id.replace(/\.(done|failed)$/, "");
      waiting.get(requestId)?.(event);
    },
  });
  return {
    /** Publishes switch.requested and resolves with the answer and the round-trip time. */
    async switchTo(to: Color, expectedRevision: number) {
      const id = `bench-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
      const answered = new Promise<BgEvent>((resolve) => waiting.set(id, resolve));
      const started = performance.now();
      await rig.request({ to, reason: "manual", expectedRevision }, { id });
      const event = await answered;
      const ms = performance.now() - started;
      waiting.delete(id);
      if (event.type !== "bluegreen.switch.done") {
        throw new Error(`switch to ${to} failed: ${JSON.stringify(event.data)}`);
      }
      return { event: event as BgEvent<"switch.done">, ms };
    },
    stop: () => sub.unsubscribe(),
  };
}

/** N switches through the agent, back to back. */
async function agentSwitches(rig: SwitcherRig, n: number) {
  const client = answers(rig);
  const ms: number[] = [];
  let { record, revision } = await rig.active();
  let color: Color = record?.color ?? "blue";
  try {
    for (let i = 0; i < n; i++) {
      const to = other(color);
      const answer = await client.switchTo(to, revision);
      ms.push(answer.ms);
      revision = answer.event.data.revision;
      color = to;
    }
  } finally {
    client.stop();
  }
  return { ms };
}

async function underLoad(rig: SwitcherRig, n: number, keepAlive: boolean) {
  const load = await startLoad({
    url: `${rig.nginx.url}/api/v1/memory`,
    concurrency: LOAD_CONCURRENCY,
    maxRequests: LOAD_BUDGET,
    keepAlive,
  });
  const switched = await agentSwitches(rig, n).then(
    (r) => ({ ok: true as const, r }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const result: LoadResult = await load.finish();
  if (!switched.ok) throw switched.error;
  return { result, ms: switched.r.ms };
}

/**
 * Polls through nginx (from now on, as the agent does from its reload on) until `target`
 * answers; then, for a while, notes when the old colour answered last.
 */
async function untilAnswers(rig: SwitcherRig, target: Color, started: number, generation?: string) {
  const verified = await verifyThroughNginx(rig.def.traffic.verify.url, rig.def, target, {
    timeoutMs: 5_000,
    generation,
  });
  if (!verified.ok) throw new Error(`nginx never answered from ${target}: ${verified.last}`);
  const firstMs = performance.now() - started;
  let lastOldMs = 0;
  const until = performance.now() + OVERLAP_WINDOW_MS;
  while (performance.now() < until) {
    const answer = await getOnce(rig.def.traffic.verify.url);
    const color = colorOfAnswer(
      { status: answer.status, headers: { "x-upstream-addr": answer.upstream }, body: answer.body },
      rig.def,
    );
    if (color === other(target)) lastOldMs = performance.now() - started;
  }
  return { firstMs, lastOldMs };
}

/** One plain `nginx -t && nginx -s reload` after writing the file, timed as described above. */
async function floorOnce(rig: SwitcherRig, to: Color, i: number) {
  const started = performance.now();
  const generation = `floor-${i}-${Date.now().toString(36)}`;
  const seen = untilAnswers(rig, to, started, generation);
  await writeFile(rig.upstreamFile, renderUpstream(rig.def, to, generation));
  await run(rig.nginx.testCommand);
  await run(rig.nginx.reloadCommand);
  const returnedMs = performance.now() - started;
  return { returnedMs, ...(await seen) };
}

/** One run of the guide's script (it toggles: `to` is where it will go). */
async function guideOnce(rig: SwitcherRig, to: Color, script: string) {
  const nginxBase = rig.nginx.testCommand.slice(0, -1); // without the trailing -t
  const addr = (c: Color) => `${rig.def.nodes[c][0]?.host}:${rig.def.nodes[c][0]?.port}`;
  const started = performance.now();
  const seen = untilAnswers(rig, to, started);
  await run([
    "bash",
    script,
    rig.upstreamFile,
    rig.def.traffic.upstream,
    addr("blue"),
    addr("green"),
    ...nginxBase,
  ]);
  const returnedMs = performance.now() - started;
  return { returnedMs, doneMs: (await seen).firstMs };
}

/**
 * N rounds of: a switch through the agent, a floor run, a guide run — interleaved, so that
 * whatever else the machine is doing weighs on all three alike. Each is followed by the same
 * settling time (floor and guide runs watch for the old colour meanwhile), so every one starts
 * with nginx idle. The file and the record stay in step:
 * agent c→d (record d), floor d→c, guide c→d; the next round starts from d.
 */
async function rounds(rig: SwitcherRig, n: number) {
  const client = answers(rig);
  const script = rig.dir.file("switch_blue_green.sh");
  await writeSwitchScript(script);
  const agent: number[] = [];
  const steps: Record<string, number[]> = {};
  const floor = { returned: [] as number[], first: [] as number[], lastOld: [] as number[] };
  const guide = { returned: [] as number[], done: [] as number[] };
  const settle = () => new Promise((resolve) => setTimeout(resolve, OVERLAP_WINDOW_MS));
  let { record, revision } = await rig.active();
  let color: Color = record?.color ?? "blue";
  try {
    for (let i = 0; i < n; i++) {
      const to = other(color);
      const { event, ms } = await client.switchTo(to, revision);
      agent.push(ms);
      for (const [step, value] of Object.entries(event.data.timings)) {
        steps[step] = [...(steps[step] ?? []), value ?? 0];
      }
      revision = event.data.revision;
      await settle();
      const f = await floorOnce(rig, color, i);
      floor.returned.push(f.returnedMs);
      floor.first.push(f.firstMs);
      floor.lastOld.push(f.lastOldMs);
      const g = await guideOnce(rig, to, script);
      guide.returned.push(g.returnedMs);
      guide.done.push(g.doneMs);
      color = to;
    }
  } finally {
    client.stop();
  }
  return { agent, steps, floor, guide };
}

function line(label: string, values: readonly number[]): string {
  return `${label.padEnd(46)} p50 ${round(percentile(values, 50)).toString().padStart(6)} ms   p99 ${round(percentile(values, 99)).toString().padStart(6)} ms`;
}

export default async function switchBench(args: string[]): Promise<void> {
  const n = parseN(args);
  const rig = await SwitcherRig.start();
  try {
    // The floor and guide runs edit the upstream file by hand between the agent's switches: a
    // switcher that reapplied its record over them (its drift check) would undo them.
    const agent = await rig.startAgent({ on_drift: "report" });
    console.log(`switch bench: ${n} switches per phase; nginx with the example emily site`);
    const timed = await rounds(rig, n);
    const { floor, guide } = timed;
    const loaded = await underLoad(rig, n, false);
    const kept = await underLoad(rig, n, true);
    await agent.stop();

    console.log(line("agent: switch.requested → switch.done", timed.agent));
    for (const [step, values] of Object.entries(timed.steps))
      console.log(line(`  agent step ${step}`, values));
    console.log(line("floor: write + nginx -t + reload returns", floor.returned));
    console.log(line("floor: … until the new colour answers", floor.first));
    console.log(line("floor: old colour last answered after start", floor.lastOld));
    console.log(line("guide script: returns", guide.returned));
    console.log(line("guide script: until the new colour answers", guide.done));
    console.log(line("agent, back to back, under load", loaded.ms));
    console.log(
      `load, new connection per request: ${loaded.result.requests} requests, ${total(loaded.result.failed)} failed, non-2xx ${JSON.stringify(loaded.result.non2xx)}`,
    );
    const keptFailed = total(kept.result.failed);
    console.log(
      `load, kept-alive connections: ${kept.result.requests} requests, ${keptFailed} failed (${round(keptFailed / n)} per reload) ${JSON.stringify(kept.result.failed)}`,
    );

    const p50 = percentile(timed.agent, 50);
    const floorP50 = percentile(floor.first, 50);
    console.log(
      JSON.stringify({
        bench: "switch",
        switches: n,
        p50_ms: round(p50),
        p99_ms: round(percentile(timed.agent, 99)),
        nginx_reload_p50_ms: round(floorP50),
        guide_script_p50_ms: round(percentile(guide.done, 50)),
        ratio_p50: Math.round((p50 / floorP50) * 100) / 100,
        requests: loaded.result.requests,
        failed_requests: total(loaded.result.failed) + total(loaded.result.non2xx),
      }),
    );
  } finally {
    await rig.stop();
  }
}
