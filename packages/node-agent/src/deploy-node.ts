import {
  BgError,
  type BgEvent,
  type Color,
  nodeId,
  type ServiceDefinition,
} from "@bluegreen/contracts";
import type { Logger } from "@bluegreen/runtime";
import {
  deployFailed,
  deployReady,
  type EventMaker,
  type FailedStage,
  type FailureDetail,
  smokeVerdict,
  stepProgress,
} from "./events.ts";
import { type Executor, mayStillRun, StepEnd, type StepOutcome } from "./executors/executor.ts";
import type { RunningSteps } from "./interrupted.ts";
import { commandText, type DeployPlan, displayCommand, stepBudget } from "./plan.ts";
import { waitForReady } from "./readiness.ts";
import { runSmokeChecks } from "./smoke/run-checks.ts";

/** How a node's deploy ended. */
export const NodeOutcome = {
  smokePassed: "smoke_passed",
  smokeFailed: "smoke_failed",
  failed: "failed",
  aborted: "aborted",
} as const;
export type NodeOutcome = (typeof NodeOutcome)[keyof typeof NodeOutcome];

/** Hooks for metrics; all optional. */
export interface NodeDeployObserver {
  step?(durationMs: number, status: string): void;
  readiness?(durationMs: number, ready: boolean): void;
  smokeCheck?(name: string, ok: boolean): void;
}

export interface NodeDeployInput {
  readonly plan: DeployPlan;
  readonly definition: Pick<ServiceDefinition, "readiness" | "smoke">;
  /** Local, or an SSH connection to the node (which may fail with a coded SSH error). */
  readonly openExecutor: () => Promise<Executor>;
  readonly makeEvent: EventMaker;
  /** Publishes a live event (progress, ready); a failure is logged, the deploy goes on. */
  readonly publish: (event: BgEvent) => Promise<void>;
  /** Aborted by a `deploy.aborted`; `signal.reason` names who aborted. */
  readonly signal: AbortSignal;
  readonly activeColor: Color | null;
  readonly logger: Logger;
  readonly observe?: NodeDeployObserver;
  /** Notes each step while it runs on this host, so a restart after a crash can end it. */
  readonly running?: RunningSteps;
}

export interface NodeDeployResult {
  readonly outcome: NodeOutcome;
  /** The events that state the result: [deploy.ready, smoke.*] or [deploy.failed]. */
  readonly final: BgEvent[];
}

const STEP_STATUS: Record<StepEnd, "failed" | "timed_out" | "aborted"> = {
  exited: "failed",
  timed_out: "timed_out",
  aborted: "aborted",
  spawn_failed: "failed",
  connection_lost: "failed",
};

function abortedBy(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return typeof reason === "string" ? reason : "an operator";
}

/** The coded error for a step that did not succeed. */
export function stepError(
  plan: DeployPlan,
  step: number,
  argv: readonly string[],
  outcome: StepOutcome,
  budget: { timeoutMs: number; cutByDeadline: boolean },
  by: string,
): BgError {
  const command = commandText(argv);
  switch (outcome.end) {
    case StepEnd.timedOut:
      return budget.cutByDeadline
        ? new BgError("BG_ERR_DEPLOY_TIMEOUT", {
            deploymentId: plan.deploymentId,
            phase: "deploy",
            timeoutMs: plan.timeoutMs,
          })
        : new BgError("BG_ERR_STEP_TIMEOUT", { step, command, timeoutMs: budget.timeoutMs });
    case StepEnd.aborted:
      return new BgError("BG_ERR_DEPLOY_ABORTED", { deploymentId: plan.deploymentId, by });
    case StepEnd.connectionLost:
      return new BgError("BG_ERR_SSH_UNREACHABLE", {
        host: outcome.lost?.host ?? plan.node.host,
        port: outcome.lost?.port ?? 22,
        reason: `connection lost while step ${step} (${command}) ran: ${outcome.lost?.reason ?? "closed"}`,
      });
    case StepEnd.spawnFailed:
      return new BgError("BG_ERR_STEP_SPAWN", {
        step,
        command: argv[0] ?? "",
        reason: outcome.reason ?? "unknown reason",
      });
    default:
      return new BgError("BG_ERR_STEP_FAILED", {
        step,
        command,
        exitCode: outcome.exitCode ?? `null (signal ${outcome.signal})`,
      });
  }
}

/**
 * One node of the idle colour, start to finish: every step in order (a `deploy.progress`
 * before and after each), readiness, then the smoke checks. The first failure ends it with a
 * `deploy.failed` that says where and why. Never throws for anything the node does.
 */
export async function deployNode(input: NodeDeployInput): Promise<NodeDeployResult> {
  const { plan, signal, logger } = input;
  const node = nodeId(plan.node);
  const base = { node, color: plan.color, version: plan.version };

  const publishLive = async (event: BgEvent) => {
    try {
      await input.publish(event);
    } catch (err) {
      logger.warn({ err, type: event.type, eventId: event.id }, "live event not published");
    }
  };
  const fail = (
    stage: FailedStage,
    error: BgError,
    detail: FailureDetail = {},
  ): NodeDeployResult => {
    const outcome =
      error.code === "BG_ERR_DEPLOY_ABORTED" ? NodeOutcome.aborted : NodeOutcome.failed;
    logger.warn({ stage, code: error.code, ...detail, outputTail: undefined }, error.message);
    const of = { ...base, activeColor: input.activeColor };
    return { outcome, final: [deployFailed(input.makeEvent, of, stage, error, detail)] };
  };
  const abortError = () =>
    new BgError("BG_ERR_DEPLOY_ABORTED", {
      deploymentId: plan.deploymentId,
      by: abortedBy(signal),
    });

  let executor: Executor;
  try {
    executor = await input.openExecutor();
  } catch (err) {
    const error =
      err instanceof BgError
        ? err
        : new BgError("BG_ERR_STEP_SPAWN", {
            step: 1,
            command: plan.steps[0]?.[0] ?? "",
            reason: err instanceof Error ? err.message : String(err),
          });
    return fail("deploy", error);
  }

  try {
    // 1. The steps, in order, within the overall deadline.
    const deadline = performance.now() + plan.timeoutMs;
    const steps = plan.steps.length;
    for (const [index, argv] of plan.steps.entries()) {
      const step = index + 1;
      if (signal.aborted) return fail("deploy", abortError(), { step });
      const budget = stepBudget(plan, deadline - performance.now());
      if (budget.timeoutMs <= 0) {
        return fail(
          "deploy",
          new BgError("BG_ERR_DEPLOY_TIMEOUT", {
            deploymentId: plan.deploymentId,
            phase: "deploy",
            timeoutMs: plan.timeoutMs,
          }),
          { step },
        );
      }
      const shown = displayCommand(argv);
      const which = { step, steps, command: shown };
      await publishLive(stepProgress(input.makeEvent, base, which, "started"));
      logger.info({ step, steps, command: shown, timeoutMs: budget.timeoutMs }, "step started");
      const outcome = await executor.run({
        argv,
        workdir: plan.workdir,
        env: plan.env,
        timeoutMs: budget.timeoutMs,
        signal,
        onSpawn: (spawned) => input.running?.began({ step, steps, command: shown, ...spawned }),
        onUnknownGroup: (reason) =>
          logger.warn(
            { step, reason },
            "the step runs unnoted: a restart cannot end it, a timeout cannot kill its group",
          ),
      });
      // A step that may still run on its node keeps its note: the agent ends it later.
      input.running?.ended(mayStillRun(outcome));
      const ok = outcome.end === StepEnd.exited && outcome.exitCode === 0;
      const status = ok ? "succeeded" : STEP_STATUS[outcome.end];
      input.observe?.step?.(outcome.durationMs, status);
      const { durationMs, exitCode, outputTail } = outcome;
      await publishLive(
        stepProgress(input.makeEvent, base, which, status, { durationMs, exitCode, outputTail }),
      );
      logger.info(
        { step, status, durationMs: outcome.durationMs, exitCode: outcome.exitCode },
        "step finished",
      );
      if (!ok) {
        const error = stepError(plan, step, argv, outcome, budget, abortedBy(signal));
        return fail("deploy", error, {
          step,
          exitCode: outcome.exitCode,
          outputTail: outcome.outputTail,
        });
      }
    }

    // 2. Readiness: poll until it answers as expected, or the deadline.
    const readiness = await waitForReady({
      node: plan.node,
      readiness: input.definition.readiness,
      signal,
      onAttempt: (attempt, answer, ready) =>
        logger.debug({ attempt, answer, ready }, "readiness probe"),
    });
    input.observe?.readiness?.(readiness.durationMs, readiness.ready);
    const lastAnswer = readiness.lastAnswer?.slice(0, 1024);
    if (readiness.aborted) {
      return fail("readiness", abortError(), lastAnswer === undefined ? {} : { lastAnswer });
    }
    if (!readiness.ready) {
      const shownAnswer = lastAnswer ?? "(none)";
      return fail(
        "readiness",
        new BgError("BG_ERR_READINESS_TIMEOUT", {
          node,
          timeoutMs: input.definition.readiness.timeout,
          lastAnswer: shownAnswer.slice(0, 300),
        }),
        { lastAnswer: shownAnswer },
      );
    }
    const ready = deployReady(input.makeEvent, base, readiness);
    logger.info({ attempts: readiness.attempts, durationMs: readiness.durationMs }, "node ready");
    await publishLive(ready);

    // 3. Smoke checks: all of them, each reported.
    const smoke = await runSmokeChecks({
      plan,
      checks: input.definition.smoke,
      executor,
      signal,
      onCheck: (check) => {
        input.observe?.smokeCheck?.(check.name, check.ok);
        logger.info({ check: check.name, ok: check.ok, message: check.message }, "smoke check");
      },
    });
    if (signal.aborted) return fail("smoke", abortError());
    const report = { ...base, durationMs: smoke.durationMs, checks: smoke.checks };
    if (smoke.ok) {
      return {
        outcome: NodeOutcome.smokePassed,
        final: [ready, smokeVerdict(input.makeEvent, report)],
      };
    }
    const failedNames = smoke.checks
      .filter((c) => !c.ok)
      .map((c) => c.name)
      .join(", ");
    const error = new BgError("BG_ERR_SMOKE_FAILED", { node, failed: failedNames.slice(0, 1500) });
    logger.warn({ failed: failedNames }, error.message);
    return {
      outcome: NodeOutcome.smokeFailed,
      final: [ready, smokeVerdict(input.makeEvent, report, error)],
    };
  } finally {
    await executor.close().catch((err: unknown) => logger.warn({ err }, "executor close failed"));
  }
}
