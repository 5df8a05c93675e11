import type { Slo } from "@bluegreen/contracts";
import type { ScrapeBaseline } from "../decide/state.ts";
import type { Measurement, MetricSource, SourceFailure, Target } from "../measurement.ts";
import { parsePromText } from "../prom-text.ts";
import {
  measureBetween,
  metricNames,
  type ScrapeSpec,
  type Snapshot,
  snapshotOf,
} from "../scrape-math.ts";
import { httpGet } from "./http.ts";

/**
 * The direct-scrape source: no Prometheus, the monitor reads each node's `/metrics` itself.
 * A baseline is scraped when the watch starts; every round scrapes again and judges the
 * deltas since the previous good scrape of that node. Baselines are exported so the watch
 * state in KV carries them across a monitor restart.
 */

export interface ScrapeSourceOptions {
  /** The metrics path on each node (`/metrics`). */
  readonly path: string;
  readonly timeoutMs: number;
  readonly slos: readonly Slo[];
  /** Baselines restored from KV. */
  readonly baselines?: Readonly<Record<string, ScrapeBaseline>> | undefined;
  readonly observe?: (seconds: number) => void;
  readonly now?: () => number;
}

type Scrape =
  | { readonly ok: true; readonly at: number; readonly snapshot: Snapshot }
  | { readonly ok: false; readonly reason: SourceFailure; readonly detail: string };

/** `127.0.0.1:8000` → `http://127.0.0.1:8000/metrics` (IPv6 hosts get brackets). */
export function metricsUrl(instance: string, path: string): string {
  const colon = instance.lastIndexOf(":");
  const host = instance.slice(0, colon);
  const port = instance.slice(colon + 1);
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}${path}`;
}

export function describeSpec(spec: ScrapeSpec): string {
  return "errorRatio" in spec
    ? `errorRatio ${spec.errorRatio.counter}{${spec.errorRatio.statusLabel}=~"${spec.errorRatio.errorStatus}"}`
    : `quantile ${spec.quantile.q} of ${spec.quantile.histogram}`;
}

export class ScrapeSource implements MetricSource {
  readonly kind = "scrape" as const;
  private readonly specs: ScrapeSpec[];
  private readonly names: Set<string>;
  private readonly baselines = new Map<string, ScrapeBaseline>();
  private current = new Map<string, Scrape>();
  private readonly now: () => number;

  constructor(private readonly opts: ScrapeSourceOptions) {
    this.specs = opts.slos.flatMap((s) => (s.scrape === undefined ? [] : [s.scrape]));
    this.names = metricNames(this.specs);
    this.now = opts.now ?? Date.now;
    for (const [instance, baseline] of Object.entries(opts.baselines ?? {}))
      this.baselines.set(instance, baseline);
  }

  /** Scrapes every node that has no baseline yet and keeps what answered as the baseline. */
  async takeBaseline(instances: readonly string[]): Promise<void> {
    const missing = instances.filter((i) => !this.baselines.has(i));
    const scrapes = await Promise.all(missing.map((i) => this.scrape(i)));
    missing.forEach((instance, n) => {
      const s = scrapes[n];
      if (s?.ok) this.baselines.set(instance, { at: s.at, families: s.snapshot });
    });
  }

  exportBaselines(): Record<string, ScrapeBaseline> {
    return Object.fromEntries(this.baselines);
  }

  targets(_slo: Slo, base: Omit<Target, "instance">, instances: readonly string[]): Target[] {
    return instances.map((instance) => ({ ...base, instance }));
  }

  async beginRound(instances: readonly string[]): Promise<void> {
    const scrapes = await Promise.all(instances.map((i) => this.scrape(i)));
    this.current = new Map(instances.map((instance, n) => [instance, scrapes[n] as Scrape]));
  }

  describe(slo: Slo, target: Target): string | undefined {
    if (slo.scrape === undefined) return undefined;
    return `${describeSpec(slo.scrape)} from ${metricsUrl(target.instance ?? "", this.opts.path)}`;
  }

  async measure(slo: Slo, target: Target): Promise<Measurement> {
    if (slo.scrape === undefined) {
      return { kind: "error", reason: "error", detail: `SLO ${slo.name} has no scrape spec` };
    }
    const instance = target.instance ?? "";
    const scrape = this.current.get(instance);
    if (scrape === undefined)
      return { kind: "error", reason: "error", detail: `${instance} was not scraped` };
    if (!scrape.ok) return { kind: "error", reason: scrape.reason, detail: scrape.detail };
    const baseline = this.baselines.get(instance);
    if (baseline === undefined) {
      return { kind: "no_data", detail: `first answer from ${instance}: it becomes the baseline` };
    }
    return measureBetween(slo.scrape, baseline.families, scrape.snapshot);
  }

  endRound(): void {
    for (const [instance, scrape] of this.current) {
      if (scrape.ok) this.baselines.set(instance, { at: scrape.at, families: scrape.snapshot });
    }
    this.current = new Map();
  }

  private async scrape(instance: string): Promise<Scrape> {
    const started = performance.now();
    const at = this.now();
    const answer = await httpGet(metricsUrl(instance, this.opts.path), {
      timeoutMs: this.opts.timeoutMs,
    });
    this.opts.observe?.((performance.now() - started) / 1000);
    if (!answer.ok) return answer;
    if (answer.status !== 200) {
      return {
        ok: false,
        reason: "error",
        detail: `${instance}${this.opts.path} answered HTTP ${answer.status}`,
      };
    }
    const { samples } = parsePromText(answer.body, (name) => this.names.has(name));
    return { ok: true, at, snapshot: snapshotOf(samples, this.specs) };
  }
}
