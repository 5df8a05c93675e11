import type { CommandCheck, HttpCheck, SmokeCheck, SmokeCheckResult } from "@bluegreen/contracts";
import { expandArgv } from "@bluegreen/contracts";
import { httpCall, nodeUrl } from "@bluegreen/runtime";
import type { Executor } from "../executors/executor.ts";
import { StepEnd } from "../executors/executor.ts";
import { tailOf } from "../output-buffer.ts";
import type { DeployPlan } from "../plan.ts";
import { judgeHttpAnswer, MAX_BODY_BYTES } from "./verdict.ts";

export function isHttpCheck(check: SmokeCheck): check is HttpCheck {
  return "request" in check;
}

export interface SmokeRun {
  readonly ok: boolean;
  readonly durationMs: number;
  readonly checks: SmokeCheckResult[];
}

export interface SmokeOptions {
  readonly plan: DeployPlan;
  readonly checks: readonly SmokeCheck[];
  /** Runs command checks on the node (the deploy's executor). */
  readonly executor: Executor;
  readonly signal?: AbortSignal | undefined;
  readonly onCheck?: (result: SmokeCheckResult) => void;
}

async function runHttpCheck(check: HttpCheck, opts: SmokeOptions): Promise<SmokeCheckResult> {
  const started = performance.now();
  const answer = await httpCall({
    url: nodeUrl(opts.plan.node, check.request.path),
    method: check.request.method,
    headers: check.request.headers,
    json: check.request.json,
    body: check.request.body,
    timeoutMs: check.timeout,
    signal: opts.signal,
    maxBodyBytes: MAX_BODY_BYTES,
  });
  const verdict = judgeHttpAnswer(check.expect, answer);
  return {
    name: check.name,
    ok: verdict.ok,
    durationMs: Math.round(performance.now() - started),
    ...(verdict.status === undefined ? {} : { status: verdict.status }),
    ...(verdict.message === undefined ? {} : { message: verdict.message }),
  };
}

async function runCommandCheck(check: CommandCheck, opts: SmokeOptions): Promise<SmokeCheckResult> {
  const { plan } = opts;
  const argv = expandArgv(check.command, {
    version: plan.version,
    service: plan.service,
    color: plan.color,
    host: plan.node.host,
    port: String(plan.node.port),
  });
  const outcome = await opts.executor.run({
    argv,
    workdir: plan.workdir,
    env: plan.env,
    timeoutMs: check.timeout,
    signal: opts.signal,
  });
  const base = { name: check.name, durationMs: outcome.durationMs };
  if (outcome.end === StepEnd.exited && outcome.exitCode === 0) return { ...base, ok: true };
  const why =
    outcome.end === StepEnd.exited
      ? `exited with code ${outcome.exitCode ?? `null (signal ${outcome.signal})`}`
      : outcome.end === StepEnd.timedOut
        ? `did not finish within ${check.timeout} ms and was killed`
        : outcome.end === StepEnd.aborted
          ? "aborted"
          : `could not start: ${outcome.reason ?? "unknown reason"}`;
  const tail = tailOf(outcome.outputTail, 600);
  return { ...base, ok: false, message: tail === "" ? why : `${why}: ${tail}` };
}

/** Many checks get shorter messages, so the smoke event stays under the event size limit. */
function boundMessages(checks: SmokeCheckResult[]): SmokeCheckResult[] {
  const limit = checks.length > 30 ? 200 : 1024;
  return checks.map((c) =>
    c.message !== undefined && c.message.length > limit
      ? { ...c, message: `${c.message.slice(0, limit - 1)}…` }
      : c,
  );
}

/** Runs every check (a failure does not stop the others) and reports each with its time. */
export async function runSmokeChecks(opts: SmokeOptions): Promise<SmokeRun> {
  const started = performance.now();
  const checks: SmokeCheckResult[] = [];
  for (const check of opts.checks) {
    const result = isHttpCheck(check)
      ? await runHttpCheck(check, opts)
      : await runCommandCheck(check, opts);
    checks.push(result);
    opts.onCheck?.(result);
  }
  return {
    ok: checks.every((c) => c.ok),
    durationMs: Math.round(performance.now() - started),
    checks: boundMessages(checks),
  };
}
