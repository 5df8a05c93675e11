import type { Color, EventDataInput, SwitchReason } from "@bluegreen/contracts";
import type { Decision as RunnerDecision } from "@bluegreen/runtime";
import { nextCheckAt, windowDone } from "./decide/schedule.ts";
import { isWatching, newWatch, type ScrapeBaseline, type WatchState } from "./decide/state.ts";
import { type Intent, type SloRoundResult, tallyRound } from "./decide/tally.ts";
import { judge, worstOf } from "./decide/verdict.ts";
import { type Measurement, sourceKindOf } from "./measurement.ts";
import type { MonitorConfigSection } from "./types.ts";

/**
 * The watch of one service as a pure state machine: (stored watch, input, ctx) → the next
 * watch and the commands that follow from it. The runner stores both with compare-and-set
 * before any command is carried out, so the events of a transition are never lost to a crash
 * and never computed twice: a restarted monitor publishes what is stored (the ids are
 * deterministic, the stream drops what it already has).
 *
 * - a promotion (`switch.done`, reason `promote`) with a deployment id not watched before
 *   starts a watch, superseding a running one of another deployment; the same deployment
 *   again (a redelivery, `changed: false`) is a no-op, and a finished watch never restarts;
 * - a rollback or manual switch to another colour ends the running watch (`switched_away`);
 * - a terminal deployment event ends the running watch of that deployment (`deployment_ended`);
 * - a monitor that starts resumes the stored running watch (`resume`), announcing it again;
 * - the measuring shell feeds the scrape baseline and each check round's measurements: the
 *   round is judged, tallied, and ends the watch on a verdict or at the deadline.
 */

export type StopReason = "superseded" | "deployment_ended" | "switched_away";

export interface SwitchFacts {
  readonly deploymentId?: string | undefined;
  readonly to: Color;
  readonly reason: SwitchReason;
  readonly changed: boolean;
}

/** What a new watch needs from the service's definition: the colour's nodes and what to watch. */
export interface WatchSpec {
  readonly instances: string[];
  readonly monitor: MonitorConfigSection;
}

/** One target's answer for an SLO in a round. */
export interface TargetMeasurement {
  /** `host:port`; absent when the query covers the whole colour. */
  readonly instance?: string | undefined;
  readonly measurement: Measurement;
  /** The query (or scrape spec) that gave it, for the events. */
  readonly query?: string | undefined;
}

export type Input =
  | ({
      readonly kind: "switch.done";
      readonly service: string;
      readonly version?: string | undefined;
      /** Given when the promotion starts a watch (`startsWatch`). */
      readonly watch?: WatchSpec | undefined;
    } & SwitchFacts)
  | { readonly kind: "deployment.ended"; readonly deploymentId?: string | undefined }
  /** A starting monitor picks up the stored running watch; `from` = its `resumes` when read. */
  | { readonly kind: "resume"; readonly from: number }
  | {
      readonly kind: "baseline";
      readonly deploymentId: string;
      readonly baselines: Record<string, ScrapeBaseline>;
    }
  | {
      readonly kind: "measured";
      readonly deploymentId: string;
      /** The round measured (the `check` command's number). */
      readonly check: number;
      /** When it was due, and when its measuring began. */
      readonly due: number;
      readonly startedAt: number;
      /** Per SLO, every target's answer. */
      readonly slos: Readonly<Record<string, readonly TargetMeasurement[]>>;
      /**
       * nginx source: the round ran before its slot because the evidence of a breach was
       * enough; it takes no slot of the grid (the next round is still due at `due`).
       */
      readonly early?: boolean | undefined;
      /** Direct scrape: the baselines after this round. */
      readonly baselines?: Record<string, ScrapeBaseline> | undefined;
    }
  /** The events of the last transition are out: the stored record lists none any more. */
  | { readonly kind: "published" };

export type MonitorEvent =
  | "monitor.started"
  | "monitor.stopped"
  | "monitor.passed"
  | "slo.warning"
  | "slo.breached"
  | "slo.inconclusive";

/** An event as stored in the pending commands: everything `Bus.emit` needs. */
export type PendingEvent = {
  [N in MonitorEvent]: {
    readonly name: N;
    readonly id: string;
    readonly service: string;
    readonly deploymentId: string;
    readonly data: EventDataInput<N>;
  };
}[MonitorEvent];

export type Command =
  /** Publish one event (deterministic id). */
  | { readonly kind: "publish"; readonly event: PendingEvent }
  /** After the events: clear them from the stored record (feeds back `published`). */
  | { readonly kind: "confirm" }
  /** Direct scrape: scrape every node without a baseline, then feed back `baseline`. */
  | { readonly kind: "baseline"; readonly deploymentId: string }
  /** Measure round `check` at `at` (at once when late), then feed back `measured`. */
  | {
      readonly kind: "check";
      readonly deploymentId: string;
      readonly check: number;
      readonly at: number;
    }
  /** Stop measuring this deployment's watch. */
  | { readonly kind: "cancel"; readonly deploymentId: string };

export interface Ctx {
  readonly now: number;
  /** `monitor/<agent_id>`: who runs the watch. */
  readonly owner: string;
}

export type Decision = RunnerDecision<WatchState, Command>;

/** Whether a promotion starts a watch (the shell then looks the definition up). */
export function startsWatch(current: WatchState | undefined, ev: SwitchFacts): boolean {
  return (
    ev.reason === "promote" &&
    ev.deploymentId !== undefined &&
    current?.deploymentId !== ev.deploymentId
  );
}

export function decide(state: WatchState | undefined, input: Input, ctx: Ctx): Decision {
  switch (input.kind) {
    case "switch.done":
      return onSwitchDone(state, input, ctx);
    case "deployment.ended":
      return onDeploymentEnded(state, input.deploymentId, ctx);
    case "resume":
      return onResume(state, input.from, ctx);
    case "baseline":
    case "measured": {
      const answer = answerFor(state, input, ctx);
      if ("refused" in answer) return answer.refused;
      return input.kind === "baseline"
        ? onBaseline(answer.watch, input)
        : onMeasured(answer.watch, input, ctx);
    }
    case "published":
      return state === undefined
        ? ignore(state, "no watch stored")
        : { state, commands: [], changed: true, note: "events published" };
  }
}

function ignore(state: WatchState | undefined, note: string, commands: Command[] = []): Decision {
  return { state, commands, changed: false, note };
}

/** Publishes, then clears the stored events once they are out. */
function withEvents(events: readonly PendingEvent[], rest: readonly Command[] = []): Command[] {
  const published: Command[] = events.map((event) => ({ kind: "publish", event }));
  return events.length === 0 ? [...rest] : [...published, ...rest, { kind: "confirm" }];
}

function onSwitchDone(
  current: WatchState | undefined,
  ev: Extract<Input, { kind: "switch.done" }>,
  ctx: Ctx,
): Decision {
  if (ev.reason !== "promote") {
    if (!isWatching(current)) return ignore(current, `${ev.reason} switch, no watch running`);
    if (ev.to === current.color)
      return ignore(current, `${ev.reason} switch to the watched colour ${ev.to}`);
    return stop(current, "switched_away", ctx);
  }
  if (ev.deploymentId === undefined)
    return ignore(current, "promotion without a deployment id: nothing to report to");
  if (!startsWatch(current, ev)) {
    return ignore(
      current,
      isWatching(current)
        ? "this deployment is already watched (redelivery)"
        : `this deployment's watch already ended (${current?.status})`,
    );
  }
  if (ev.watch === undefined) return ignore(current, "no service definition to watch with");
  const watch: WatchState = {
    ...newWatch({
      service: ev.service,
      deploymentId: ev.deploymentId,
      color: ev.to,
      version: ev.version,
      instances: ev.watch.instances,
      monitor: ev.watch.monitor,
      now: ctx.now,
      owner: ctx.owner,
    }),
    announced: true,
  };
  const superseded: Command[] = isWatching(current)
    ? [{ kind: "cancel", deploymentId: current.deploymentId }]
    : [];
  const events = isWatching(current)
    ? [stoppedEvent(current, "superseded"), startedEvent(watch)]
    : [startedEvent(watch)];
  return {
    state: watch,
    commands: [...superseded, ...withEvents(events, [firstTask(watch)])],
    changed: true,
    note: isWatching(current) ? "watch started, superseding the running one" : "watch started",
  };
}

function onDeploymentEnded(
  current: WatchState | undefined,
  deploymentId: string | undefined,
  ctx: Ctx,
): Decision {
  if (!isWatching(current)) return ignore(current, "no watch running");
  if (deploymentId === undefined || current.deploymentId !== deploymentId)
    return ignore(current, `the running watch is for deployment ${current.deploymentId}`);
  return stop(current, "deployment_ended", ctx);
}

/** Ends a running watch without a verdict: `monitor.stopped`. */
function stop(current: WatchState, reason: StopReason, ctx: Ctx): Decision {
  return {
    state: { ...current, status: "stopped", endedAt: ctx.now, endReason: reason },
    commands: [
      { kind: "cancel", deploymentId: current.deploymentId },
      ...withEvents([stoppedEvent(current, reason)]),
    ],
    changed: true,
    note: `watch stopped (${reason})`,
  };
}

function onResume(current: WatchState | undefined, from: number, ctx: Ctx): Decision {
  if (!isWatching(current)) return ignore(current, "no watch running");
  if (current.resumes !== from) return ignore(current, "the watch was resumed already");
  const resumed: WatchState = {
    ...current,
    resumes: current.resumes + 1,
    announced: true,
    owner: ctx.owner,
  };
  return {
    state: resumed,
    commands: withEvents([startedEvent(resumed)], [firstTask(resumed)]),
    changed: true,
    note: "watch resumed",
  };
}

/** Direct scrape takes a baseline of every node first (once per node); then the checks. */
function firstTask(s: WatchState): Command {
  const baselined = (i: string) => s.scrape?.[i] !== undefined;
  return sourceKindOf(s.monitor) === "scrape" && !s.instances.every(baselined)
    ? { kind: "baseline", deploymentId: s.deploymentId }
    : nextCheck(s);
}

/** Another monitor resumed the watch (it wrote its name as owner): this one stops measuring. */
function lettingGo(s: WatchState): Decision {
  return ignore(s, `the watch is run by ${s.owner} now; letting it go`, [
    { kind: "cancel", deploymentId: s.deploymentId },
  ]);
}

function nextCheck(s: WatchState): Command {
  return {
    kind: "check",
    deploymentId: s.deploymentId,
    check: s.checks + 1,
    at: nextCheckAt(s, s.monitor.interval),
  };
}

/**
 * The measuring shell's answers count only for the running watch they were asked for, while
 * this monitor runs it; otherwise the decision that refuses them.
 */
function answerFor(
  s: WatchState | undefined,
  input: { readonly kind: "baseline" | "measured"; readonly deploymentId: string },
  ctx: Ctx,
): { watch: WatchState } | { refused: Decision } {
  const what = input.kind === "baseline" ? "baseline" : "round";
  if (!isWatching(s) || s.deploymentId !== input.deploymentId)
    return { refused: ignore(s, `${what} of a watch that is not running`) };
  if (s.owner !== ctx.owner) return { refused: lettingGo(s) };
  return { watch: s };
}

function onBaseline(current: WatchState, input: Extract<Input, { kind: "baseline" }>): Decision {
  if (Object.keys(input.baselines).length === 0)
    return ignore(current, "no node answered the baseline scrape", [nextCheck(current)]);
  const next: WatchState = { ...current, scrape: input.baselines };
  return { state: next, commands: [nextCheck(next)], changed: true, note: "baseline stored" };
}

/** One check round: judge every target, tally, publish what a user must know, end or go on. */
function onMeasured(
  s: WatchState,
  input: Extract<Input, { kind: "measured" }>,
  ctx: Ctx,
): Decision {
  // A round repeated after a write whose answer was lost: it is counted already.
  if (input.check !== s.checks + 1)
    return ignore(s, `round ${input.check} is counted already`, [nextCheck(s)]);

  const results = new Map<string, SloRoundResult>();
  for (const slo of s.monitor.slos) {
    const judged = (input.slos[slo.name] ?? []).map((t) => {
      const result = judge(slo, t.measurement);
      return { t, result: t.instance === undefined ? result : { ...result, instance: t.instance } };
    });
    const worst = worstOf(judged.map((j) => j.result));
    results.set(slo.name, {
      result: worst,
      query: (judged.find((j) => j.result === worst) ?? judged[0])?.t.query,
    });
  }
  const lastCheckAt =
    input.early === true && input.startedAt < input.due
      ? input.startedAt
      : Math.max(input.startedAt, input.due);
  const round = evidenceOf(input.slos);
  const outcome = tallyRound({
    slos: s.monitor.slos,
    inconclusive: s.monitor.inconclusive,
    counters: s.slos,
    results,
    color: s.color,
    final: windowDone({ ...s, lastCheckAt }),
  });
  let next: WatchState = {
    ...s,
    checks: s.checks + 1,
    lastCheckAt,
    slos: outcome.counters,
    warnings: s.warnings + outcome.warnings,
    inconclusive: s.inconclusive + outcome.inconclusive,
    ...(input.baselines === undefined ? {} : { scrape: input.baselines }),
    ...(round === undefined ? {} : { evidence: addEvidence(s.evidence, round) }),
  };
  const events: PendingEvent[] = outcome.intents.map((intent) => {
    const event = intentEvent(next, intent);
    return event.name === "slo.breached" && round !== undefined
      ? { ...event, data: { ...event.data, evidence: round } }
      : event;
  });
  if (outcome.end !== undefined) {
    next = {
      ...next,
      status: outcome.end.status,
      endedAt: ctx.now,
      endReason: outcome.end.reason,
    };
  } else if (windowDone(next)) {
    next = { ...next, status: "passed", endedAt: ctx.now, endReason: "window ended" };
    events.push(passedEvent(next, ctx.now));
  }
  const after: Command =
    next.status === "watching" ? nextCheck(next) : { kind: "cancel", deploymentId: s.deploymentId };
  return {
    state: next,
    commands: withEvents(events, [after]),
    changed: true,
    note: next.status === "watching" ? `round ${next.checks}` : `watch ${next.status}`,
  };
}

type Evidence = NonNullable<WatchState["evidence"]>;

/** nginx source: the round's requests and probes (its first nginx SLO's targets, summed). */
function evidenceOf(slos: Readonly<Record<string, readonly TargetMeasurement[]>>) {
  const fromNginx = (ts: readonly TargetMeasurement[]) =>
    ts.some((t) => t.measurement.kind === "value" && t.measurement.probes !== undefined);
  const first = Object.values(slos).find(fromNginx) ?? [];
  let found = false;
  const sum = { requests: 0, probes: 0 };
  for (const { measurement: m } of first) {
    if (m.kind !== "value" || m.probes === undefined) continue;
    found = true;
    sum.probes += m.probes;
    sum.requests += (m.requests ?? 0) - m.probes;
  }
  return found ? sum : undefined;
}

function addEvidence(a: Evidence | undefined, b: Evidence): Evidence {
  return { requests: (a?.requests ?? 0) + b.requests, probes: (a?.probes ?? 0) + b.probes };
}

function common(s: WatchState) {
  return { service: s.service, deploymentId: s.deploymentId };
}

/** `monitor.started` (again after a restart, with `resumed: true`). */
function startedEvent(s: WatchState): PendingEvent {
  return {
    name: "monitor.started",
    id: `${s.deploymentId}.started.${s.resumes}`,
    ...common(s),
    data: {
      color: s.color,
      ...(s.version === undefined ? {} : { version: s.version }),
      instances: s.instances,
      source: sourceKindOf(s.monitor),
      windowMs: s.monitor.window,
      intervalMs: s.monitor.interval,
      deadline: new Date(s.deadline).toISOString(),
      resumed: s.resumes > 0,
    },
  };
}

function stoppedEvent(s: WatchState, reason: StopReason): PendingEvent {
  return {
    name: "monitor.stopped",
    id: `${s.deploymentId}.stopped`,
    ...common(s),
    data: { color: s.color, reason, checks: s.checks },
  };
}

function passedEvent(s: WatchState, now: number): PendingEvent {
  return {
    name: "monitor.passed",
    id: `${s.deploymentId}.passed`,
    ...common(s),
    data: {
      color: s.color,
      checks: s.checks,
      warnings: s.warnings,
      inconclusive: s.inconclusive,
      durationMs: Math.max(0, now - s.startedAt),
      ...(s.monitor.source.nginx === undefined
        ? {}
        : { evidence: s.evidence ?? { requests: 0, probes: 0 } }),
    },
  };
}

/** `<deploymentId>.c<check>.<event>.<slo index>`: a repeated round repeats the same ids. */
function intentEvent(s: WatchState, intent: Intent): PendingEvent {
  const slo = s.monitor.slos.findIndex((x) => x.name === intent.slo);
  return {
    name: intent.name,
    id: `${s.deploymentId}.c${s.checks}.${intent.name}.${slo}`,
    ...common(s),
    data: intent.data,
  } as PendingEvent;
}
