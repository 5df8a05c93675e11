import { childLogger, type Logger, sleep, sleepUntil } from "@bluegreen/runtime";
import type { WatchState } from "./decide/state.ts";
import type { Command, Input, TargetMeasurement } from "./decide.ts";
import type { AnySource } from "./sources/index.ts";
import { NginxSource } from "./sources/nginx.ts";
import { ScrapeSource } from "./sources/scrape.ts";

/**
 * The measuring side of one running watch: it does what the watch's `baseline` and `check`
 * commands ask — scrape the baseline, or wait for the check's slot on the interval grid and
 * measure every SLO on every target — and feeds the answers back to the transition runner
 * (`baseline`, `measured`), whose decision names the next task. A task that fails (NATS away
 * while the round is stored) runs again after a short pause; a new task replaces the current
 * one; `cancel` ends the loop after the running task.
 */

export type Task = Extract<Command, { kind: "baseline" | "check" }>;

export interface WatchLoopDeps {
  /** The transition runner for this watch's service. */
  readonly apply: (input: Input) => Promise<unknown>;
  readonly source: AnySource;
  /** The nginx source beside Prometheus or scrape: it judges the SLOs with an `nginx` spec. */
  readonly beside?: NginxSource | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
}

const MAX_RETRY_DELAY_MS = 5_000;

const sameTask = (a: Task, b: Task) =>
  a.kind === b.kind && (a.kind === "baseline" || (b.kind === "check" && a.check === b.check));

export class WatchLoop {
  readonly service: string;
  readonly deploymentId: string;
  private readonly color: WatchState["color"];
  private readonly instances: readonly string[];
  private readonly slos: WatchState["monitor"]["slos"];
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly stopped = new AbortController();
  private task: Task | undefined;
  private taskAbort = new AbortController();
  private wake: (() => void) | undefined;
  private readonly worker: Promise<void>;

  constructor(
    watch: WatchState,
    private readonly deps: WatchLoopDeps,
  ) {
    this.service = watch.service;
    this.deploymentId = watch.deploymentId;
    this.color = watch.color;
    this.instances = watch.instances;
    this.slos = watch.monitor.slos;
    this.now = deps.now ?? Date.now;
    this.logger = childLogger(deps.logger, {
      component: "watch",
      service: watch.service,
      deploymentId: watch.deploymentId,
    });
    this.worker = this.work();
  }

  /** Takes on a task (the same one again changes nothing). */
  schedule(task: Task): void {
    if (this.stopped.signal.aborted) return;
    if (this.task !== undefined && sameTask(this.task, task)) return;
    this.task = task;
    this.taskAbort.abort();
    this.taskAbort = new AbortController();
    this.wake?.();
  }

  /** Ends the loop after the running task, without waiting for it. */
  cancel(): void {
    if (this.deps.source instanceof NginxSource) this.deps.source.close();
    this.deps.beside?.close();
    this.stopped.abort();
    this.taskAbort.abort();
    this.wake?.();
  }

  /** Ends the loop and waits for the running task. */
  async stop(): Promise<void> {
    this.cancel();
    await this.worker;
  }

  private async work(): Promise<void> {
    let failures = 0;
    while (!this.stopped.signal.aborted) {
      const task = this.task;
      const signal = this.taskAbort.signal;
      if (task === undefined) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      try {
        await this.run(task, signal);
        failures = 0;
        if (this.task === task) this.task = undefined;
      } catch (err) {
        failures++;
        this.logger.warn(
          { err, failures },
          task.kind === "baseline"
            ? "scrape baseline not stored; retrying"
            : "check round failed; it will run again",
        );
        // A new task or the end of the loop cuts the pause short.
        await sleep(Math.min(MAX_RETRY_DELAY_MS, 250 * 2 ** Math.min(failures, 5)), signal);
      }
    }
  }

  private async run(task: Task, signal: AbortSignal): Promise<void> {
    const source = this.deps.source;
    if (task.kind === "baseline") {
      if (source instanceof ScrapeSource) await source.takeBaseline(this.instances);
      if (signal.aborted) return;
      await this.deps.apply({
        kind: "baseline",
        deploymentId: this.deploymentId,
        baselines: source instanceof ScrapeSource ? source.exportBaselines() : {},
      });
      return;
    }
    const early = await this.slot(task, signal);
    if (signal.aborted) return;
    const startedAt = this.now();
    const slos = await this.measure();
    if (signal.aborted) return;
    await this.deps.apply({
      kind: "measured",
      deploymentId: this.deploymentId,
      check: task.check,
      due: task.at,
      startedAt,
      slos,
      ...(early ? { early } : {}),
      ...(source instanceof ScrapeSource ? { baselines: source.exportBaselines() } : {}),
    });
  }

  /**
   * Waits for the check's slot; the nginx source cuts it short once its evidence of a breach is
   * enough (true: the round runs early).
   */
  private async slot(
    task: Extract<Task, { kind: "check" }>,
    signal: AbortSignal,
  ): Promise<boolean> {
    const source = this.deps.source instanceof NginxSource ? this.deps.source : this.deps.beside;
    if (source === undefined) {
      await sleepUntil(task.at, signal, this.now);
      return false;
    }
    const waiting = new AbortController();
    const end = () => waiting.abort();
    signal.addEventListener("abort", end, { once: true });
    try {
      return await Promise.race([
        sleepUntil(task.at, waiting.signal, this.now).then(() => false),
        source.decisive(waiting.signal).then(() => !waiting.signal.aborted && this.now() < task.at),
      ]);
    } finally {
      waiting.abort();
      signal.removeEventListener("abort", end);
    }
  }

  /** Every SLO on every target, once. */
  private async measure(): Promise<Record<string, TargetMeasurement[]>> {
    const { source, beside } = this.deps;
    const base = { service: this.service, color: this.color };
    await Promise.all([source.beginRound(this.instances), beside?.beginRound()]);
    const measured = await Promise.all(
      this.slos.map(async (slo) => {
        const source = beside !== undefined && slo.nginx !== undefined ? beside : this.deps.source;
        const targets = source.targets(slo, base, this.instances);
        const answers = await Promise.all(
          targets.map(
            async (target): Promise<TargetMeasurement> => ({
              ...(target.instance === undefined ? {} : { instance: target.instance }),
              measurement: await source.measure(slo, target),
              query: source.describe(slo, target),
            }),
          ),
        );
        return [slo.name, answers] as const;
      }),
    );
    source.endRound();
    beside?.endRound();
    return Object.fromEntries(measured);
  }
}
