// `npm run demo`: the whole stack on loopback and two stories, with the live timeline.
// See docs/demo.md.

import { setTimeout as sleep } from "node:timers/promises";
import { REPO_ROOT, startTraffic, type TrafficLoop } from "@bluegreen/testkit";
import { DEMO_USAGE, type DemoArgs, parseDemoArgs } from "./args.ts";
import { MARKER, markThisRun, sweep } from "./cleanup.ts";
import { type DemoStack, startDemoStack } from "./stack.ts";
import { type StoryContext, storyPromote, storyRollback } from "./stories.ts";
import { type StoryResult, secs, storyOk, summaryLines } from "./summary.ts";
import { Timeline } from "./timeline.ts";
import { countSamples, formatSecond } from "./traffic-tally.ts";

/** Set on Ctrl-C: the stories may still be unwinding, but only the shutdown talks now. */
let silenced = false;
const write = (line: string) => process.stdout.write(`${line}\n`);
const out = (line: string) => {
  if (!silenced) write(line);
};
const say = (line: string) => out(`▸ ${line}`);
const rule = (title: string) => out(`\n── ${title} ${"─".repeat(Math.max(4, 76 - title.length))}`);

const CLI = `node ${REPO_ROOT.replace(/\/$/, "")}/packages/cli/bin/bluegreen.js`;

function exploreHelp(stack: DemoStack): string[] {
  const s = stack.service;
  return [
    `export NATS_URL=${stack.nats.url}`,
    `alias bluegreen='${CLI}'`,
    `bluegreen status ${s}`,
    `bluegreen tail --service ${s}            # the whole audit trail (add --follow)`,
    `bluegreen history ${s}`,
    "bluegreen agents",
    `bluegreen deploy ${s} v1.3 --wait        # deploys to blue, the idle colour`,
    `bluegreen switch ${s} blue               # a manual, fenced switch`,
    `curl -si ${stack.nginx.url}/health`,
  ];
}

interface Run {
  stack?: DemoStack;
  timeline?: Timeline;
  traffic?: TrafficLoop;
}

interface Shutdown {
  /** What went wrong while stopping. */
  readonly problems: string[];
  /** Processes of this run still alive after the orderly stop, killed by the sweep. */
  readonly swept: string[];
}

async function shutdown(run: Run, runId: string): Promise<Shutdown> {
  const problems: string[] = [];
  await run.traffic?.stop();
  await run.timeline?.stop();
  try {
    await run.stack?.stop();
  } catch (error) {
    problems.push(`stopping the stack: ${(error as Error).message}`);
  }
  return { problems, swept: await sweep(runId) };
}

async function play(args: DemoArgs, runId: string, run: Run): Promise<boolean> {
  const t0 = Date.now();
  rule(
    `starting the stack on 127.0.0.1 (${args.prometheus ? "Prometheus" : "direct-scrape"} monitor source)`,
  );
  const notified: string[] = [];
  const stack = await startDemoStack({
    prometheus: args.prometheus,
    log: say,
    notify: (delivery) => {
      const event = delivery.json as { type?: string; subject?: string; deploymentid?: string };
      notified.push(`${event.deploymentid} ${event.type}`);
      say(
        `webhook receiver got ${event.type} for ${event.subject} ${event.deploymentid} (signature ${delivery.signed ? "ok" : "BAD"})`,
      );
    },
  });
  run.stack = stack;
  out(`\nwhere each piece listens (run ${MARKER}=${runId}, temp dir ${stack.dir}):`);
  for (const l of await stack.listeners()) {
    out(`  ${l.name.padEnd(18)} ${l.where.padEnd(40)} pid ${l.pid ?? "-"}`);
  }
  out(`  ${"definition".padEnd(18)} ${stack.definitionPath}`);
  out(`started in ${secs(Date.now() - t0)}; blue serves v1.0, green is idle`);

  rule("timeline (as `bluegreen tail --follow` prints it) and traffic through nginx");
  run.timeline = await new Timeline(out).follow(stack.js);
  run.traffic = startTraffic({
    url: `${stack.nginx.url}/api/v1/memory`,
    onSecond: (samples) => out(`  traffic │ ${formatSecond(countSamples(samples))}`),
  });
  const ctx: StoryContext = {
    stack,
    timeline: run.timeline,
    samples: run.traffic.samples,
    say,
    runId,
  };

  const results: StoryResult[] = [];
  rule(
    "story 1: deploy v1.1 (expect: deployed to green, smoke passed, switched, watched, succeeded)",
  );
  results.push(await storyPromote(ctx));
  rule(
    "story 2: deploy v1.2 (expect: switched to blue, errors injected, SLO breach, rolled back to green)",
  );
  results.push(await storyRollback(ctx));
  await sleep(1_500); // traffic back on green, for a line or two
  await run.traffic.stop();
  // The notifier posts each outcome to the receiver: give the last one a moment to arrive.
  const outcomes = results.map((r) => r.deploymentId);
  const delivered = () => outcomes.filter((id) => notified.some((n) => n.startsWith(`${id} `)));
  for (let waited = 0; delivered().length < outcomes.length && waited < 10_000; waited += 100)
    await sleep(100);
  say(`notifier: ${delivered().length} of ${outcomes.length} outcomes delivered to the webhook`);

  rule("summary");
  for (const line of summaryLines(results, Date.now() - t0)) out(line);
  return results.every(storyOk);
}

async function keepRunning(run: Run): Promise<void> {
  const stack = run.stack;
  if (stack === undefined) return;
  rule("--keep: everything keeps running");
  for (const l of await stack.listeners())
    out(`  ${l.name.padEnd(18)} ${l.where.padEnd(40)} pid ${l.pid ?? "-"}`);
  out("\nexplore it from another terminal (from the repository root):");
  for (const line of exploreHelp(stack)) out(`  ${line}`);
  out(`\nstop it all: Ctrl-C here, or: kill ${process.pid}`);
  out("(the timeline below keeps following the stream)\n");
  // Until a signal: main's handler stops everything then.
  await new Promise<never>(() => {
    setInterval(() => {}, 60_000);
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseDemoArgs(argv);
  if (parsed.kind === "help") {
    out(DEMO_USAGE);
    return 0;
  }
  if (parsed.kind === "usage-error") {
    process.stderr.write(`demo: ${parsed.message}\n\n${DEMO_USAGE}\n`);
    return 2;
  }
  const runId = markThisRun();
  const run: Run = {};
  let interrupted = false;
  /** Set once the stories are over (with --keep, while everything keeps running). */
  let storiesOk: boolean | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    silenced = storiesOk === undefined;
    write(`\ndemo: ${signal}: stopping everything`);
    const code = storiesOk === undefined ? 130 : storiesOk ? 0 : 1;
    const hardStop = setTimeout(() => process.exit(code), 15_000);
    hardStop.unref();
    // The test support's own hook has already SIGKILLed the servers and removed the temp dir
    // (with the apps' pid files): the sweep finds the apps by the marker.
    void shutdown(run, runId)
      .then(({ problems, swept }) => {
        for (const problem of problems) write(`demo: ${problem}`);
        if (swept.length > 0) write(`demo: killed ${swept.join(", ")}`);
        write(`demo: stopped; no process with ${MARKER}=${runId} left`);
      })
      .finally(() => process.exit(code));
  };
  // `on`, not `once`: the test support's own signal hook re-raises the signal (ending this
  // process at once, before anything is cleaned up) when it finds no other listener left.
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let ok = false;
  try {
    ok = await play(parsed.args, runId, run);
    storiesOk = ok;
    if (parsed.args.keep) await keepRunning(run);
  } catch (error) {
    out(
      `\ndemo: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    ok = false;
  }
  if (interrupted) return 130;
  const { problems, swept } = await shutdown(run, runId);
  if (swept.length > 0) problems.push(`processes left behind, killed: ${swept.join(", ")}`);
  for (const problem of problems) out(`demo: ${problem}`);
  out(
    problems.length === 0
      ? `demo: stopped everything it started (no process with ${MARKER}=${runId} left)`
      : "demo: cleanup was not clean",
  );
  return ok && problems.length === 0 ? 0 : 1;
}

process.exit(await main(process.argv.slice(2)));
