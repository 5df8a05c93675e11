import { expandPlaceholders, type Slo } from "@bluegreen/contracts";
import type { Measurement, MetricSource, Target } from "../measurement.ts";
import { parseSampleValue } from "../prom-text.ts";
import { httpGet } from "./http.ts";

/**
 * The Prometheus source: one instant query (`GET /api/v1/query`) per SLO and target, with a
 * timeout and an optional Authorization header. `${service}`, `${color}` and `${instance}` are
 * substituted in the query; a query that names `${instance}` runs once per node of the colour
 * (the worst node decides), one without it runs once for the whole colour.
 */

export interface PrometheusSourceOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** The Authorization header value, read from the environment by the caller; never logged. */
  readonly authorization?: string | undefined;
  /** Set when the header's environment variable is missing: every query is inconclusive. */
  readonly configProblem?: string | undefined;
  readonly observe?: (seconds: number) => void;
}

/** Reads an instant query's answer. Pure. */
export function readQueryAnswer(status: number, body: string): Measurement {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: "error", reason: "error", detail: `HTTP ${status}: the answer is not JSON` };
  }
  const answer = json as {
    status?: unknown;
    errorType?: unknown;
    error?: unknown;
    data?: { resultType?: unknown; result?: unknown };
  };
  if (answer?.status !== "success") {
    const why = typeof answer?.error === "string" ? answer.error : "no error message";
    const type = typeof answer?.errorType === "string" ? `${answer.errorType}: ` : "";
    return {
      kind: "error",
      reason: "error",
      detail: `HTTP ${status}: ${type}${why}`.slice(0, 1024),
    };
  }
  const { resultType, result } = answer.data ?? {};
  let values: number[];
  if (resultType === "vector" && Array.isArray(result)) {
    values = result.map(
      (s) => parseSampleValue(String((s as { value?: unknown[] })?.value?.[1])) ?? Number.NaN,
    );
  } else if (resultType === "scalar" && Array.isArray(result)) {
    values = [parseSampleValue(String(result[1])) ?? Number.NaN];
  } else {
    return {
      kind: "error",
      reason: "error",
      detail: `the query returns a ${String(resultType)}: an SLO query must return one number (an instant vector or a scalar)`,
    };
  }
  if (values.length === 0) return { kind: "no_data", detail: "the query returned no series" };
  const numbers = values.filter((v) => !Number.isNaN(v));
  if (numbers.length === 0)
    return { kind: "nan", detail: "the query returned NaN (no requests in the range?)" };
  return { kind: "value", value: Math.max(...numbers) };
}

export function queryFor(slo: Slo, target: Target): string | undefined {
  if (slo.query === undefined) return undefined;
  return expandPlaceholders(slo.query, {
    service: target.service,
    color: target.color,
    ...(target.instance === undefined ? {} : { instance: target.instance }),
  });
}

export class PrometheusSource implements MetricSource {
  readonly kind = "prometheus" as const;
  private readonly endpoint: string;

  constructor(private readonly opts: PrometheusSourceOptions) {
    this.endpoint = `${opts.url.replace(/\/+$/, "")}/api/v1/query`;
  }

  targets(slo: Slo, base: Omit<Target, "instance">, instances: readonly string[]): Target[] {
    return slo.query?.includes("${instance}")
      ? instances.map((instance) => ({ ...base, instance }))
      : [base];
  }

  async beginRound(): Promise<void> {}

  endRound(): void {}

  describe(slo: Slo, target: Target): string | undefined {
    return queryFor(slo, target);
  }

  async measure(slo: Slo, target: Target): Promise<Measurement> {
    if (this.opts.configProblem !== undefined) {
      return { kind: "error", reason: "error", detail: this.opts.configProblem };
    }
    const query = queryFor(slo, target);
    if (query === undefined) {
      return {
        kind: "error",
        reason: "error",
        detail: `SLO ${slo.name} has no query for the Prometheus source`,
      };
    }
    const started = performance.now();
    const answer = await httpGet(`${this.endpoint}?query=${encodeURIComponent(query)}`, {
      timeoutMs: this.opts.timeoutMs,
      ...(this.opts.authorization === undefined
        ? {}
        : { headers: { authorization: this.opts.authorization } }),
    });
    this.opts.observe?.((performance.now() - started) / 1000);
    if (!answer.ok) return { kind: "error", reason: answer.reason, detail: answer.detail };
    return readQueryAnswer(answer.status, answer.body);
  }
}
