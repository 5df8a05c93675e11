import type { Color, Slo } from "@bluegreen/contracts";

/**
 * What a metric source answers for one SLO on one target (Argo Rollouts' metric provider
 * shape): a value, no data, NaN, or no answer at all. The three are never confused.
 */
export type Measurement =
  | {
      readonly kind: "value";
      readonly value: number;
      readonly requests?: number;
      /** nginx source: how many of the requests were the monitor's probes. */
      readonly probes?: number;
      /**
       * nginx source: whether a value over `max` is over it with confidence (the Wilson score
       * rule); a value over `max` without it is not a breach. Absent: every excess counts.
       */
      readonly significant?: boolean;
    }
  | { readonly kind: "no_data"; readonly detail?: string }
  | { readonly kind: "nan"; readonly detail?: string }
  | { readonly kind: "error"; readonly reason: SourceFailure; readonly detail: string };

export const SourceFailure = {
  unreachable: "unreachable",
  timeout: "timeout",
  error: "error",
} as const;
export type SourceFailure = (typeof SourceFailure)[keyof typeof SourceFailure];

export const SourceKind = { prometheus: "prometheus", scrape: "scrape", nginx: "nginx" } as const;
export type SourceKind = (typeof SourceKind)[keyof typeof SourceKind];

/** Where a measurement is taken: the colour now serving, one of its nodes or all of them. */
export interface Target {
  readonly service: string;
  readonly color: Color;
  /** `host:port`; absent when the query covers the whole colour. */
  readonly instance?: string;
}

/** One interface, three implementations (`sources/prometheus.ts`, `scrape.ts`, `nginx.ts`). */
export interface MetricSource {
  readonly kind: SourceKind;
  /** The targets an SLO is measured on, from the colour's instances. */
  targets(slo: Slo, base: Omit<Target, "instance">, instances: readonly string[]): Target[];
  /** Called once before the SLOs of a check round are measured (scrape: fetch every node). */
  beginRound(instances: readonly string[]): Promise<void>;
  measure(slo: Slo, target: Target): Promise<Measurement>;
  /** Called after the round's measurements (scrape: the new samples become the baseline). */
  endRound(): void;
  /** The query an SLO runs on a target, for the events (Prometheus only). */
  describe(slo: Slo, target: Target): string | undefined;
}

/** The source a definition's monitor section names. */
export function sourceKindOf(monitor: { readonly source: object }): SourceKind {
  if ("scrape" in monitor.source) return "scrape";
  return "prometheus" in monitor.source ? "prometheus" : "nginx";
}
