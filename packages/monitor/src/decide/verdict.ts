import type { Slo } from "@bluegreen/contracts";
import type { Measurement } from "../measurement.ts";

/**
 * One SLO check's verdict from one measurement. A value is judged against `max`; no data,
 * NaN and too little traffic follow the SLO's `no_traffic` policy; no answer from the source
 * is always inconclusive. Pure.
 */

export const Verdict = { ok: "ok", breach: "breach", inconclusive: "inconclusive" } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export const InconclusiveReason = {
  unreachable: "unreachable",
  timeout: "timeout",
  noData: "no_data",
  nan: "nan",
  lowTraffic: "low_traffic",
  error: "error",
} as const;
export type InconclusiveReason = (typeof InconclusiveReason)[keyof typeof InconclusiveReason];

export type CheckResult =
  | {
      readonly verdict: "ok";
      /** Absent when the check passed on the no-traffic policy. */
      readonly value?: number;
      /** Why there was nothing to judge, when `no_traffic: pass` turned that into ok. */
      readonly noTraffic?: InconclusiveReason;
      readonly instance?: string;
    }
  | { readonly verdict: "breach"; readonly value: number; readonly instance?: string }
  | {
      readonly verdict: "inconclusive";
      readonly reason: InconclusiveReason;
      readonly detail?: string;
      readonly instance?: string;
    };

export type SloPolicy = Pick<Slo, "max" | "no_traffic" | "min_requests">;

function nothingToJudge(slo: SloPolicy, reason: InconclusiveReason, detail?: string): CheckResult {
  if (slo.no_traffic === "pass") return { verdict: "ok", noTraffic: reason };
  return detail === undefined
    ? { verdict: "inconclusive", reason }
    : { verdict: "inconclusive", reason, detail };
}

export function judge(slo: SloPolicy, m: Measurement): CheckResult {
  switch (m.kind) {
    case "error":
      return { verdict: "inconclusive", reason: m.reason, detail: m.detail };
    case "no_data":
      return nothingToJudge(slo, "no_data", m.detail);
    case "nan":
      return nothingToJudge(slo, "nan", m.detail);
    case "value": {
      if (Number.isNaN(m.value)) return nothingToJudge(slo, "nan");
      if (m.requests !== undefined && m.requests < slo.min_requests) {
        return nothingToJudge(
          slo,
          "low_traffic",
          `${m.requests} requests, fewer than min_requests ${slo.min_requests}`,
        );
      }
      // The nginx source says whether an excess is significant: a lucky few errors are not.
      return m.value > slo.max && m.significant !== false
        ? { verdict: "breach", value: m.value }
        : { verdict: "ok", value: m.value };
    }
  }
}

const RANK: Readonly<Record<Verdict, number>> = { ok: 0, inconclusive: 1, breach: 2 };

/**
 * The verdict of an SLO over several targets (the nodes of a colour): the worst one wins —
 * any breach (the highest value), else any inconclusive, else ok (the highest value).
 */
export function worstOf(results: readonly CheckResult[]): CheckResult {
  let worst: CheckResult | undefined;
  for (const r of results) {
    if (worst === undefined || RANK[r.verdict] > RANK[worst.verdict]) {
      worst = r;
      continue;
    }
    if (r.verdict === worst.verdict && r.verdict !== "inconclusive") {
      const a = (worst as { value?: number }).value ?? Number.NEGATIVE_INFINITY;
      const b = r.value ?? Number.NEGATIVE_INFINITY;
      if (b > a) worst = r;
    }
  }
  return worst ?? { verdict: "inconclusive", reason: "no_data", detail: "no target to measure" };
}
