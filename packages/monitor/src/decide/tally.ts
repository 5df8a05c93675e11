import type { Color, EventDataInput, MonitorConfigSection, Slo } from "../types.ts";
import { EMPTY_COUNTERS, type SloCounters } from "./state.ts";
import type { CheckResult } from "./verdict.ts";

/**
 * Folds one check round into a watch's counters and says which events to publish (Argo's
 * `failureLimit` / `inconclusiveLimit`). Breaches count in total against the SLO's
 * `failure_limit`; inconclusive checks count against the definition's inconclusive limit,
 * consecutive or in total. Events only mark what a user must know: every inconclusive check up
 * to its limit, a warning when an `on_breach: warn` SLO goes over, a breach at the limit.
 * The last round of the window also ends the inconclusive count of an SLO that was never
 * judged (no ok, no breach in the whole window): nothing spoke for it, so its limit counts as
 * reached and the configured action applies — never a pass on no evidence. Pure.
 */

export interface SloRoundResult {
  readonly result: CheckResult;
  /** The query (or scrape spec) that gave the deciding answer. */
  readonly query?: string | undefined;
}

export interface RoundInput {
  readonly slos: readonly Slo[];
  readonly inconclusive: MonitorConfigSection["inconclusive"];
  readonly counters: Readonly<Record<string, SloCounters>>;
  readonly results: ReadonlyMap<string, SloRoundResult>;
  readonly color: Color;
  /** This round is the window's last (its check is at the deadline). */
  readonly final?: boolean;
}

export type Intent =
  | {
      readonly name: "slo.warning";
      readonly slo: string;
      readonly data: EventDataInput<"slo.warning">;
    }
  | {
      readonly name: "slo.breached";
      readonly slo: string;
      readonly data: EventDataInput<"slo.breached">;
    }
  | {
      readonly name: "slo.inconclusive";
      readonly slo: string;
      readonly data: EventDataInput<"slo.inconclusive">;
    };

export interface RoundEnd {
  readonly status: "breached" | "inconclusive";
  readonly slo: string;
  readonly reason: string;
}

export interface RoundOutcome {
  readonly counters: Record<string, SloCounters>;
  readonly intents: Intent[];
  /** Warnings published this round (slo.warning, or an inconclusive limit with `warn`). */
  readonly warnings: number;
  /** Inconclusive checks this round. */
  readonly inconclusive: number;
  /** Set when the round ends the watch: a breach to roll back, or the inconclusive limit. */
  readonly end?: RoundEnd;
}

/** Event numbers must be finite; an infinite quantile is reported as the largest number. */
export function finite(value: number): number {
  if (Number.isFinite(value)) return value;
  return value > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
}

const clip = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** The source's own words, and why a count below the limit counts as the limit. */
function detailOf(
  detail: string | undefined,
  unjudged: boolean,
  checks: number,
): { detail?: string } {
  const why = unjudged
    ? `the window ended with no conclusive check of this SLO (${checks} checks)`
    : undefined;
  const text = [why, detail].filter((t) => t !== undefined).join(": ");
  return text === "" ? {} : { detail: clip(text, 1024) };
}

export function tallyRound(input: RoundInput): RoundOutcome {
  const counters: Record<string, SloCounters> = { ...input.counters };
  const intents: Intent[] = [];
  let warnings = 0;
  let inconclusive = 0;
  let end: RoundEnd | undefined;
  const policy = input.inconclusive;

  for (const slo of input.slos) {
    const round = input.results.get(slo.name);
    if (round === undefined) continue;
    const { result } = round;
    const before = counters[slo.name] ?? EMPTY_COUNTERS;
    const checks = before.checks + 1;
    const common = {
      slo: slo.name,
      ...(round.query === undefined ? {} : { query: clip(round.query, 2048) }),
      color: input.color,
      checks,
    };

    if (result.verdict === "ok") {
      counters[slo.name] = {
        ...before,
        checks,
        ok: before.ok + 1,
        consecutiveInconclusive: 0,
        warning: false,
        last: {
          verdict: "ok",
          value: result.value === undefined ? null : finite(result.value),
          ...(result.noTraffic === undefined ? {} : { reason: result.noTraffic }),
        },
      };
      continue;
    }

    if (result.verdict === "breach") {
      const breaches = before.breaches + 1;
      const value = finite(result.value);
      const atLimit = breaches >= slo.failure_limit;
      let warning = before.warning;
      if (slo.on_breach === "rollback" && atLimit && end === undefined) {
        intents.push({
          name: "slo.breached",
          slo: slo.name,
          data: {
            ...common,
            value,
            threshold: slo.max,
            breaches,
            limit: slo.failure_limit,
            action: "rollback",
          },
        });
        end = { status: "breached", slo: slo.name, reason: `${slo.name} ${value} > ${slo.max}` };
      } else if (slo.on_breach === "warn" && atLimit && !before.warning) {
        intents.push({
          name: "slo.warning",
          slo: slo.name,
          data: { ...common, value, threshold: slo.max },
        });
        warnings++;
        warning = true;
      }
      counters[slo.name] = {
        ...before,
        checks,
        breaches,
        consecutiveInconclusive: 0,
        warning,
        last: { verdict: "breach", value },
      };
      continue;
    }

    inconclusive++;
    const total = before.inconclusive + 1;
    const consecutive = before.consecutiveInconclusive + 1;
    const count = policy.consecutive ? consecutive : total;
    // The window ends with this check and not one check of this SLO was conclusive.
    const unjudged =
      input.final === true && before.ok + before.breaches === 0 && count < policy.limit;
    const limitReached = count >= policy.limit || unjudged;
    counters[slo.name] = {
      ...before,
      checks,
      inconclusive: total,
      consecutiveInconclusive: consecutive,
      last: { verdict: "inconclusive", value: null, reason: result.reason },
    };
    // Past the limit (total counting with `warn`) the SLO has said all it can: stay quiet.
    if (count > policy.limit) continue;
    const asksRollback = limitReached && policy.on_limit === "rollback";
    // Another SLO already ended the watch this round: one rollback request is enough.
    if (asksRollback && end !== undefined) continue;
    intents.push({
      name: "slo.inconclusive",
      slo: slo.name,
      data: {
        ...common,
        reason: result.reason,
        ...detailOf(result.detail, unjudged, checks),
        count,
        limit: policy.limit,
        limitReached,
        ...(limitReached ? { action: policy.on_limit } : {}),
      },
    });
    if (limitReached && policy.on_limit === "warn") warnings++;
    if (asksRollback) {
      end = {
        status: "inconclusive",
        slo: slo.name,
        reason: unjudged
          ? `${slo.name} never conclusive in the window: ${count} inconclusive checks (${result.reason})`
          : `${slo.name} inconclusive ${count} times (${result.reason})`,
      };
    }
  }
  return { counters, intents, warnings, inconclusive, ...(end === undefined ? {} : { end }) };
}
