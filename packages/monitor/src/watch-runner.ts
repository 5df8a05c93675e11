import { isDeepStrictEqual } from "node:util";
import {
  BgError,
  type ErrorCode,
  type EventDataInput,
  type EventName,
  formatErrorMessage,
} from "@bluegreen/contracts";
import { childLogger, type Logger } from "@bluegreen/runtime";
import type { Target } from "./measurement.ts";
import type { MonitorMetrics } from "./metrics.ts";
import { nextCheckAt, windowDone } from "./schedule.ts";
import { createSource, type SourceSettings } from "./sources/index.ts";
import type { PrometheusSource } from "./sources/prometheus.ts";
import { ScrapeSource } from "./sources/scrape.ts";
import { type SloRoundResult, tallyRound } from "./tally.ts";
import { type CheckResult, judge, worstOf } from "./verdict.ts";
import type { WatchState } from "./watch-state.ts";
import type { WatchStore } from "./watch-store.ts";

/**
 * Runs one watch: announces it, takes the scrape baseline, then checks every SLO on the
 * interval grid until a verdict or the deadline. Each round is a short list of steps —
 * measure, judge, tally, publish, persist — and every step's result lands in KV with
 * compare-and-set, so a restarted monitor picks the watch up where it was. Events carry
 * deterministic ids (deployment, round, event, SLO): a round repeated after a failure is
 * de-duplicated by the stream.
 */

export type Emit = <N extends EventName>(
  name: N,
  opts: { service: string; deploymentId: string; data: EventDataInput<N>; id: string },
) => Promise<unknown>;

export const RunnerPhase = {
  idle: "idle",
  announcing: "announcing",
  waiting: "waiting",
  checking: "checking",
  stopping: "stopping",
  ended: "ended",
} as const;
export type RunnerPhase = (typeof RunnerPhase)[keyof typeof RunnerPhase];

export interface RunnerDeps {
  readonly store: WatchStore;
  readonly emit: Emit;
  readonly metrics: MonitorMetrics;
  readonly logger: Logger;
  readonly sources: SourceSettings;
  readonly now?: () => number;
  /** Called once when the runner is done (verdict, stop, or lost the watch to another writer). */
  readonly onEnd?: (runner: WatchRunner) => void;
}

const MAX_RETRY_DELAY_MS = 5_000;

function sleepUntil(at: number, now: () => number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, at - now()));
    signal.addEventListener("abort", done, { once: true });
  });
}

export class WatchRunner {
  private phase: RunnerPhase = "idle";
  private state: WatchState;
  private revision: number;
  private readonly source: PrometheusSource | ScrapeSource;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(
    private readonly deps: RunnerDeps,
    stored: { state: WatchState; revision: number },
  ) {
    this.state = stored.state;
    this.revision = stored.revision;
    this.now = deps.now ?? Date.now;
    this.logger = childLogger(deps.logger, {
      component: "watch",
      service: stored.state.service,
      deploymentId: stored.state.deploymentId,
    });
    this.source = createSource(
      stored.state.monitor,
      {
        ...deps.sources,
        observe: (source, seconds) => deps.metrics.sourceLatency(source, seconds),
      },
      stored.state.scrape,
    );
  }

  get service(): string {
    return this.state.service;
  }

  get deploymentId(): string {
    return this.state.deploymentId;
  }

  /** The watch as this runner last wrote it. */
  get current(): WatchState {
    return this.state;
  }

  start(): void {
    if (this.phase !== "idle") {
      throw new BgError("BG_ERR_LIFECYCLE_STATE", {
        component: "watch",
        action: "start",
        state: this.phase,
      });
    }
    this.loop = this.run()
      .catch((err: unknown) =>
        this.logger.error({ err }, "watch failed; it stays in KV for the next start"),
      )
      .finally(() => {
        this.setPhase("ended");
        this.deps.onEnd?.(this);
      });
  }

  /** Stops after the running round (if any); the stored watch stays as last written. */
  async stop(): Promise<void> {
    if (this.phase === "ended" || this.phase === "idle") return;
    this.setPhase("stopping");
    this.abort.abort();
    await this.loop;
  }

  private setPhase(next: RunnerPhase): void {
    const from = this.phase;
    if (from === next || from === "ended") return;
    this.phase = next;
    const quiet = next === "waiting" || next === "checking";
    this.logger[quiet ? "debug" : "info"](
      { from, to: next, checks: this.state.checks },
      "watch phase",
    );
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    let failures = 0;
    const retryDelay = () => Math.min(MAX_RETRY_DELAY_MS, 250 * 2 ** Math.min(failures, 5));
    this.setPhase("announcing");
    while (!this.stopping && !this.state.announced) {
      try {
        if (!(await this.announce())) return;
      } catch (err) {
        failures++;
        this.logger.warn({ err, failures }, "monitor.started not published; retrying");
        await sleepUntil(this.now() + retryDelay(), this.now, this.abort.signal);
      }
    }
    failures = 0;
    const source = this.source;
    if (source instanceof ScrapeSource) {
      // The baseline is kept in KV so that a restarted monitor measures from the same point.
      // A failed write (NATS away for a moment) is retried like a round, never given up.
      let stored = false;
      while (!this.stopping && !stored) {
        try {
          await source.takeBaseline(this.state.instances);
          const baselines = source.exportBaselines();
          if (
            Object.keys(baselines).length > 0 &&
            !(await this.persistSafely({ ...this.state, scrape: baselines }))
          ) {
            return;
          }
          stored = true;
        } catch (err) {
          failures++;
          this.logger.warn({ err, failures }, "scrape baseline not stored; retrying");
          await sleepUntil(this.now() + retryDelay(), this.now, this.abort.signal);
        }
      }
    }
    failures = 0;
    while (!this.stopping && this.state.status === "watching") {
      this.setPhase("waiting");
      const due = nextCheckAt(this.state, this.state.monitor.interval);
      await sleepUntil(due, this.now, this.abort.signal);
      if (this.stopping) break;
      this.setPhase("checking");
      try {
        if (!(await this.round(due))) return;
        failures = 0;
      } catch (err) {
        failures++;
        this.logger.warn({ err, failures }, "check round failed; it will run again");
        await sleepUntil(this.now() + retryDelay(), this.now, this.abort.signal);
      }
    }
  }

  /** Publishes `monitor.started` (again after a restart, with `resumed: true`). */
  private async announce(): Promise<boolean> {
    const s = this.state;
    await this.deps.emit("monitor.started", {
      service: s.service,
      deploymentId: s.deploymentId,
      id: `${s.deploymentId}.started.${s.resumes}`,
      data: {
        color: s.color,
        ...(s.version === undefined ? {} : { version: s.version }),
        instances: s.instances,
        source: this.source.kind,
        windowMs: s.monitor.window,
        intervalMs: s.monitor.interval,
        deadline: new Date(s.deadline).toISOString(),
        resumed: s.resumes > 0,
      },
    });
    this.logger.info(
      {
        color: s.color,
        instances: s.instances,
        source: this.source.kind,
        remainingMs: Math.max(0, s.deadline - this.now()),
        checks: s.checks,
        resumed: s.resumes > 0,
      },
      s.resumes > 0 ? "watch resumed" : "watch started",
    );
    return this.persistSafely({ ...s, announced: true });
  }

  /** Measures every SLO on every target once, and acts on the verdicts. False: watch lost. */
  private async round(due: number): Promise<boolean> {
    const s = this.state;
    const startedAt = this.now();
    const base = { service: s.service, color: s.color };
    await this.source.beginRound(s.instances);
    const results = new Map<string, SloRoundResult>();
    await Promise.all(
      s.monitor.slos.map(async (slo) => {
        const targets = this.source.targets(slo, base, s.instances);
        const judged = await Promise.all(
          targets.map(async (target): Promise<{ target: Target; result: CheckResult }> => {
            const result = judge(slo, await this.source.measure(slo, target));
            return {
              target,
              result:
                target.instance === undefined ? result : { ...result, instance: target.instance },
            };
          }),
        );
        const worst = worstOf(judged.map((j) => j.result));
        const target = judged.find((j) => j.result === worst)?.target ?? targets[0];
        results.set(slo.name, {
          result: worst,
          query: target === undefined ? undefined : this.source.describe(slo, target),
        });
      }),
    );
    this.source.endRound();
    for (const r of results.values()) this.deps.metrics.check(r.result.verdict);

    const outcome = tallyRound({
      slos: s.monitor.slos,
      inconclusive: s.monitor.inconclusive,
      counters: s.slos,
      results,
      color: s.color,
      final: windowDone({ ...s, lastCheckAt: Math.max(startedAt, due) }),
    });
    const now = this.now();
    let next: WatchState = {
      ...s,
      checks: s.checks + 1,
      lastCheckAt: Math.max(startedAt, due),
      slos: outcome.counters,
      warnings: s.warnings + outcome.warnings,
      inconclusive: s.inconclusive + outcome.inconclusive,
      ...(this.source instanceof ScrapeSource ? { scrape: this.source.exportBaselines() } : {}),
    };
    const sloIndex = (name: string) => s.monitor.slos.findIndex((x) => x.name === name);
    const publish: Array<() => Promise<unknown>> = outcome.intents.map(
      (intent) => () =>
        this.deps.emit(intent.name, {
          service: s.service,
          deploymentId: s.deploymentId,
          id: `${s.deploymentId}.c${next.checks}.${intent.name}.${sloIndex(intent.slo)}`,
          data: intent.data as never,
        }),
    );
    if (outcome.end !== undefined) {
      next = { ...next, status: outcome.end.status, endedAt: now, endReason: outcome.end.reason };
    } else if (windowDone(next)) {
      next = { ...next, status: "passed", endedAt: now, endReason: "window ended" };
      const passed = next;
      publish.push(() =>
        this.deps.emit("monitor.passed", {
          service: s.service,
          deploymentId: s.deploymentId,
          id: `${s.deploymentId}.passed`,
          data: {
            color: s.color,
            checks: passed.checks,
            warnings: passed.warnings,
            inconclusive: passed.inconclusive,
            durationMs: Math.max(0, now - s.startedAt),
          },
        }),
      );
    }
    this.logRound(next, results, outcome.intents);
    for (const step of publish) await step();
    if (!(await this.persistSafely(next))) return false;
    if (next.status !== "watching") {
      this.logger.info(
        { status: next.status, reason: next.endReason, checks: next.checks },
        next.status === "passed" ? "watch passed" : "watch ended with a verdict",
      );
    }
    return true;
  }

  private logRound(
    next: WatchState,
    results: ReadonlyMap<string, SloRoundResult>,
    intents: ReturnType<typeof tallyRound>["intents"],
  ): void {
    const verdicts = Object.fromEntries(
      [...results].map(([name, r]) => [
        name,
        r.result.verdict === "inconclusive"
          ? `inconclusive (${r.result.reason})`
          : `${r.result.verdict}${r.result.value === undefined ? "" : ` ${r.result.value}`}`,
      ]),
    );
    this.logger.debug({ check: next.checks, verdicts }, "check round");
    for (const intent of intents) {
      if (intent.name !== "slo.inconclusive") {
        const level = intent.name === "slo.breached" ? "warn" : "info";
        this.logger[level]({ event: intent.name, ...intent.data }, intent.name);
        continue;
      }
      // Inconclusive checks are logged with the catalogue code an operator can look up.
      const d = intent.data;
      const code: ErrorCode | undefined = d.limitReached
        ? "BG_ERR_MONITOR_INCONCLUSIVE_LIMIT"
        : d.reason === "unreachable" || d.reason === "timeout"
          ? "BG_ERR_MONITOR_SOURCE_UNREACHABLE"
          : d.reason === "error"
            ? "BG_ERR_MONITOR_QUERY_FAILED"
            : undefined;
      const why = d.detail ?? d.reason;
      const message =
        code === undefined
          ? `SLO ${d.slo} had nothing to judge: ${why}`
          : formatErrorMessage(code, {
              slo: d.slo,
              count: d.count,
              limit: d.limit,
              source: this.source.kind,
              reason: why,
            });
      this.logger.warn(
        { event: intent.name, ...(code === undefined ? {} : { code }), ...d },
        message,
      );
    }
  }

  /** CAS-writes the state. False when another writer changed the watch: this runner lets go. */
  private async persistSafely(next: WatchState): Promise<boolean> {
    try {
      this.revision = await this.deps.store.write(next, this.revision);
      this.state = next;
      return true;
    } catch (err) {
      if (err instanceof BgError && err.code === "BG_ERR_KV_CONFLICT") {
        // A retry after a write whose answer was lost (NATS away) conflicts with that very
        // write: the stored watch is then exactly `next`, and this runner keeps it.
        const stored = await this.deps.store.read(next.service);
        const written: unknown = JSON.parse(JSON.stringify(next));
        if (stored.revision !== undefined && isDeepStrictEqual(stored.state, written)) {
          this.revision = stored.revision;
          this.state = next;
          return true;
        }
        this.logger.warn(
          { code: err.code },
          "the stored watch changed elsewhere; this runner lets it go",
        );
        return false;
      }
      throw err;
    }
  }
}
