// The two stories, each driven through the real `bluegreen deploy --wait` as CI runs it, and
// judged by what a user sees: the CLI's exit code, the events in the stream, the answers
// through nginx.

import { ExitCode } from "@bluegreen/cli";
import { requestOnce, waitFor } from "@bluegreen/testkit";
import { setFaults } from "./apps.ts";
import type { CliResult } from "./cli.ts";
import type { DemoStack } from "./stack.ts";
import type { StoryResult } from "./summary.ts";
import type { Timeline } from "./timeline.ts";
import { between, countSamples, settledOn, type TrafficSample } from "./traffic-tally.ts";

export interface StoryContext {
  readonly stack: DemoStack;
  readonly timeline: Timeline;
  readonly samples: readonly TrafficSample[];
  readonly say: (line: string) => void;
  /** Unique per run: deployment ids are `<runId>-1`, `<runId>-2`. */
  readonly runId: string;
}

const DEPLOY_TIMEOUT_MS = 75_000;

function deploy(ctx: StoryContext, version: string, id: string): Promise<CliResult> {
  const args = ["deploy", ctx.stack.service, version, "--wait", "--id", id, "--timeout", "70s"];
  ctx.say(`$ bluegreen ${args.join(" ")}`);
  return ctx.stack.cli(args);
}

function showCli(ctx: StoryContext, result: CliResult): void {
  const last = result.lines.at(-1) ?? "(no output)";
  ctx.say(`bluegreen deploy exited ${result.code}: ${last}`);
  for (const line of result.stderr
    .trim()
    .split("\n")
    .filter((l) => l !== "")) {
    ctx.say(`  stderr: ${line}`);
  }
}

/**
 * Ten answers in a row through nginx from `color` running `version`, or why not. nginx's old
 * workers may still accept a new connection for ~100 ms after a reload (docs/switcher.md), so
 * an answer from elsewhere only starts the count again, until 3 s have passed.
 */
async function servedBy(ctx: StoryContext, color: string, version: string): Promise<string[]> {
  const url = `${ctx.stack.nginx.url}/api/v1/memory`;
  const deadline = Date.now() + 3_000;
  let run = 0;
  while (run < 10) {
    const answer = await requestOnce(url);
    if (answer.status === 200 && answer.color === color && answer.version === version) {
      run++;
    } else if (Date.now() >= deadline) {
      return [
        `nginx should serve ${color} ${version}, answered ${answer.status} from ${answer.color ?? "-"} ${answer.version ?? "-"}`,
      ];
    } else {
      run = 0;
    }
  }
  return [];
}

const elapsed = (from: string | undefined, to: string | undefined) =>
  from === undefined || to === undefined ? undefined : Date.parse(to) - Date.parse(from);

/** Story 1: deploy v1.1 → green deployed, smoke passed, switched, watched, succeeded. */
export async function storyPromote(ctx: StoryContext): Promise<StoryResult> {
  const id = `${ctx.runId}-1`;
  const started = Date.now();
  const result = await deploy(ctx, "v1.1", id);
  const ended = Date.now();
  showCli(ctx, result);
  const { timeline } = ctx;
  const ofThis = (e: { deploymentid?: string | undefined }) => e.deploymentid === id;
  const requested = timeline.find("bluegreen.deploy.requested", ofThis);
  const succeeded = timeline.find("bluegreen.deploy.succeeded", ofThis);
  const switched = timeline.find(
    "bluegreen.switch.done",
    (e) => ofThis(e) && e.data.reason === "promote",
  );
  const problems: string[] = [];
  if (result.code !== ExitCode.ok) problems.push(`bluegreen deploy exited ${result.code}, not 0`);
  for (const [name, event] of [
    ["smoke.passed", timeline.find("bluegreen.smoke.passed", ofThis)],
    ["switch.done", switched],
    ["monitor.passed", timeline.find("bluegreen.monitor.passed", ofThis)],
    ["deploy.succeeded", succeeded],
  ] as const) {
    if (event === undefined) problems.push(`no ${name} in the stream`);
  }
  const samples = between(ctx.samples, started, ended);
  const counts = countSamples(samples);
  if (counts.failed > 0) problems.push(`${counts.failed} request(s) failed through nginx`);
  if (counts.requests === 0) problems.push("the request loop sent nothing");
  problems.push(...(await servedBy(ctx, "green", "v1.1")));
  const switchedAt = switched === undefined ? undefined : Date.parse(switched.time);
  const settled =
    switchedAt === undefined ? undefined : settledOn(ctx.samples, "green", switchedAt);
  return {
    title: "deploy v1.1",
    expected: "succeeded",
    expectedExit: ExitCode.ok,
    exitCode: result.code,
    deploymentId: id,
    problems,
    deployMs: succeeded?.data.durationMs ?? elapsed(requested?.time, succeeded?.time),
    switchMs: switched?.data.timings.totalMs,
    switchPath:
      switched === undefined ? undefined : `${switched.data.from ?? "?"} → ${switched.data.to}`,
    settledMs: settled === undefined || switchedAt === undefined ? undefined : settled - switchedAt,
    requests: counts.requests,
    failed: counts.failed,
  };
}

/**
 * Story 2: deploy v1.2 → blue switched in; right after switch.done the demo makes blue fail
 * half its requests; the monitor sees the breach, the coordinator switches back to green.
 */
export async function storyRollback(ctx: StoryContext): Promise<StoryResult> {
  const id = `${ctx.runId}-2`;
  const started = Date.now();
  const running = deploy(ctx, "v1.2", id);
  const { timeline } = ctx;
  const ofThis = (e: { deploymentid?: string | undefined }) => e.deploymentid === id;
  const problems: string[] = [];
  let injectedAt: number | undefined;
  // Until the CLI is back: a deployment that fails before the switch ends the wait.
  const cliDone = new AbortController();
  const abort = () => cliDone.abort();
  running.then(abort, abort);
  const switched = await timeline.waitFor(
    "bluegreen.switch.done",
    (e) => ofThis(e) && e.data.reason === "promote",
    { timeoutMs: DEPLOY_TIMEOUT_MS, intervalMs: 5, signal: cliDone.signal },
  );
  if (switched !== undefined) {
    injectedAt = Date.now();
    await setFaults(ctx.stack.apps.blue, { errorRate: 0.5 });
    ctx.say(
      `injected errors into blue v1.2 (POST ${ctx.stack.apps.blue.url}/admin/faults {"errorRate":0.5}), ${secs0(injectedAt - Date.parse(switched.time))} after switch.done`,
    );
  } else problems.push("the promotion to blue never switched (no switch.done)");
  const result = await running;
  showCli(ctx, result);
  if (result.code !== ExitCode.rolledBack) {
    problems.push(
      `bluegreen deploy exited ${result.code}, not ${ExitCode.rolledBack} (rolled back)`,
    );
  }
  const breached = timeline.find("bluegreen.slo.breached", ofThis);
  const back = timeline.find(
    "bluegreen.switch.done",
    (e) => ofThis(e) && e.data.reason === "rollback",
  );
  const rolledBack = timeline.find("bluegreen.deploy.rolled_back", ofThis);
  for (const [name, event] of [
    ["slo.breached", breached],
    ["switch.done (rollback)", back],
    ["deploy.rolled_back", rolledBack],
  ] as const) {
    if (event === undefined) problems.push(`no ${name} in the stream`);
  }
  // Traffic cannot be back before the breach: old nginx workers answering from green for a
  // moment after the promotion's reload must not count.
  const backSince = breached === undefined ? injectedAt : Date.parse(breached.time);
  // The CLI exits on deploy.rolled_back; the request loop needs a moment to see it.
  const settledBack =
    backSince === undefined
      ? undefined
      : await waitFor(() => settledOn(ctx.samples, "green", backSince), {
          what: "traffic back on green through nginx",
          timeoutMs: 10_000,
          intervalMs: 50,
        }).catch(() => undefined);
  if (injectedAt !== undefined && settledBack === undefined) {
    problems.push("traffic through nginx never settled back on green");
  }
  problems.push(...(await servedBy(ctx, "green", "v1.1")));
  const counts = countSamples(between(ctx.samples, started, Date.now()));
  const switchedAt = switched === undefined ? undefined : Date.parse(switched.time);
  // Blue answers half its requests with a 500 by then: every answer from it counts.
  const settledBlue =
    switchedAt === undefined
      ? undefined
      : settledOn(ctx.samples, "blue", switchedAt, { okOnly: false });
  return {
    title: "deploy v1.2",
    expected: "rolled back",
    expectedExit: ExitCode.rolledBack,
    exitCode: result.code,
    deploymentId: id,
    problems,
    deployMs: elapsed(timeline.find("bluegreen.deploy.requested", ofThis)?.time, rolledBack?.time),
    switchMs: switched?.data.timings.totalMs,
    switchPath:
      switched === undefined ? undefined : `${switched.data.from ?? "?"} → ${switched.data.to}`,
    settledMs:
      settledBlue === undefined || switchedAt === undefined ? undefined : settledBlue - switchedAt,
    breachMs:
      breached === undefined || injectedAt === undefined
        ? undefined
        : Date.parse(breached.time) - injectedAt,
    faultToBackMs:
      settledBack === undefined || injectedAt === undefined ? undefined : settledBack - injectedAt,
    rollbackSwitchMs: back?.data.timings.totalMs,
    timeToRollbackMs: rolledBack?.data.timeToRollbackMs,
    requests: counts.requests,
    failed: counts.failed,
  };
}

const secs0 = (ms: number) => `${Math.max(0, Math.round(ms))} ms`;
