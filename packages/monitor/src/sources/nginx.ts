import {
  PROBE_HEADER,
  type RequestTally,
  requestWindowSchema,
  type Slo,
  statsSubject,
} from "@bluegreen/contracts";
import { httpCall } from "@bluegreen/runtime";
import type { Measurement, MetricSource, Target } from "../measurement.ts";
import type { MonitorConfigSection } from "../types.ts";

/**
 * The nginx source: nginx reports every request, the switcher's reader folds them into short
 * windows on `bgstats.<service>` (core NATS), and this source adds up the windows of the
 * watched colour's nodes between check rounds. It judges as the windows arrive: once an SLO
 * has `min_requests` and its breach is significant (Wilson score lower bound above the limit,
 * see `significantlyAbove`), `decisive()` resolves and the watch loop measures at once instead
 * of waiting for the interval. No window for `stale_after` means the reader (or NATS) is down:
 * every measurement is `unreachable` (inconclusive, never a pass). With `probe` set, it sends
 * probe requests through nginx, marked with `x-bluegreen-probe`, while real traffic is below
 * `min_requests` per round.
 */

/**
 * One-sided 99.5 %: the z of the Wilson score bound. With it one 5xx in three requests is not a
 * breach of a 5 % SLO (lower bound 0.040), three in three is (0.311), and a steady 1 % error
 * rate stays under 5 % through many looks at the growing evidence.
 */
export const WILSON_Z = 2.576;

/** Lower bound of the Wilson score interval of `k` successes in `n` trials. */
export function wilsonLower(k: number, n: number, z = WILSON_Z): number {
  if (n <= 0) return 0;
  const p = k / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - margin) / (1 + z2 / n));
}

/** Whether `k` of `n` is above `ratio` with 99.5 % confidence (the source's breach rule). */
export function significantlyAbove(k: number, n: number, ratio: number): boolean {
  return wilsonLower(k, n) > ratio;
}

/** What the subscription needs of a NATS connection. */
export interface StatsConnection {
  subscribe(
    subject: string,
    opts: { callback: (err: unknown, msg: { data: Uint8Array }) => void },
  ): { unsubscribe(): void };
}

type NginxSpec = NonNullable<Slo["nginx"]>;
type NginxSection = Extract<MonitorConfigSection["source"], { nginx: unknown }>["nginx"];

interface Pool {
  statuses: Map<string, number>;
  latencies: number[];
  real: number;
  probes: number;
}

const emptyPool = (): Pool => ({ statuses: new Map(), latencies: [], real: 0, probes: 0 });

function addTally(pool: Pool, tally: RequestTally, probe: boolean): void {
  let count = 0;
  for (const [status, n] of Object.entries(tally.statuses)) {
    pool.statuses.set(status, (pool.statuses.get(status) ?? 0) + n);
    count += n;
  }
  for (const l of tally.latencies) pool.latencies.push(l);
  if (probe) pool.probes += count;
  else pool.real += count;
}

/** The judgment of one SLO over one pool: the value, the requests, and the confidence rule. */
export function judgePool(
  spec: NginxSpec,
  max: number,
  pool: Pool,
): Extract<Measurement, { kind: "value" }> | undefined {
  if ("errorRatio" in spec) {
    const n = pool.real + pool.probes;
    if (n === 0) return undefined;
    const match = new RegExp(`^(?:${spec.errorRatio.errorStatus})$`);
    let errors = 0;
    for (const [status, count] of pool.statuses) if (match.test(status)) errors += count;
    return {
      kind: "value",
      value: errors / n,
      requests: n,
      probes: pool.probes,
      significant: significantlyAbove(errors, n, max),
    };
  }
  const sorted = [...pool.latencies].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return undefined;
  const q = spec.quantile.q;
  const value = sorted[Math.min(n - 1, Math.ceil(q * n) - 1)] ?? 0;
  const slow = sorted.filter((l) => l > max).length;
  // The q-quantile is above max when more than (1 − q) of the requests are slower than max.
  return {
    kind: "value",
    value,
    requests: n,
    probes: pool.probes,
    significant: significantlyAbove(slow, n, 1 - q),
  };
}

export interface NginxSourceOptions {
  readonly nc: StatsConnection;
  readonly service: string;
  readonly instances: readonly string[];
  readonly slos: readonly Slo[];
  readonly settings: NginxSection;
  /** The probe header's value (the deployment id). */
  readonly probeMark: string;
  readonly now?: () => number;
}

export class NginxSource implements MetricSource {
  readonly kind = "nginx" as const;
  private pools = new Map<string, Pool>();
  private current = new Map<string, Pool>();
  private readonly watched: Set<string>;
  private readonly now: () => number;
  private readonly subscription: { unsubscribe(): void };
  private lastWindowAt: number | undefined;
  private readonly startedAt: number;
  private waiters: (() => void)[] = [];
  private probeTimer: NodeJS.Timeout | undefined;
  private realLastRound = 0;
  private readonly minRequests: number;

  constructor(private readonly opts: NginxSourceOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.watched = new Set(opts.instances);
    this.minRequests = Math.max(1, ...opts.slos.map((s) => s.min_requests));
    this.subscription = opts.nc.subscribe(statsSubject(opts.service), {
      callback: (err, msg) => {
        if (err === null || err === undefined) this.onWindow(msg.data);
      },
    });
    const probe = opts.settings.probe;
    if (probe !== undefined) {
      this.probeTimer = setInterval(() => this.maybeProbe(), 1000 / probe.rate);
    }
  }

  close(): void {
    this.subscription.unsubscribe();
    clearInterval(this.probeTimer);
    for (const wake of this.waiters) wake();
    this.waiters = [];
  }

  targets(_slo: Slo, base: Omit<Target, "instance">, instances: readonly string[]): Target[] {
    return instances.map((instance) => ({ ...base, instance }));
  }

  async beginRound(): Promise<void> {
    this.current = this.pools;
    this.pools = new Map();
    this.realLastRound = [...this.current.values()].reduce((a, p) => a + p.real, 0);
  }

  endRound(): void {
    this.current = new Map();
  }

  describe(slo: Slo, target: Target): string | undefined {
    if (slo.nginx === undefined) return undefined;
    const what =
      "errorRatio" in slo.nginx
        ? `errorRatio status=~"${slo.nginx.errorRatio.errorStatus}"`
        : `quantile ${slo.nginx.quantile.q} of $upstream_response_time`;
    return `nginx ${what} of ${target.instance ?? ""} (${statsSubject(this.opts.service)})`;
  }

  async measure(slo: Slo, target: Target): Promise<Measurement> {
    if (slo.nginx === undefined)
      return { kind: "error", reason: "error", detail: `SLO ${slo.name} has no nginx spec` };
    const stale = this.staleness();
    if (stale !== undefined) return { kind: "error", reason: "unreachable", detail: stale };
    const pool = this.current.get(target.instance ?? "") ?? emptyPool();
    return (
      judgePool(slo.nginx, slo.max, pool) ?? {
        kind: "no_data",
        detail: `no request to ${target.instance} through nginx since the last check`,
      }
    );
  }

  /** Resolves once a rollback SLO's breach is significant on some node (or on `signal`). */
  decisive(signal: AbortSignal): Promise<void> {
    if (this.breachEvident() || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        signal.removeEventListener("abort", wake);
        resolve();
      };
      this.waiters.push(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  /** Why the source is down, or undefined while windows arrive. */
  private staleness(): string | undefined {
    const staleAfter = this.opts.settings.stale_after;
    const last = this.lastWindowAt ?? this.startedAt;
    const silent = this.now() - last;
    if (silent <= staleAfter) return undefined;
    return `no request window on ${statsSubject(this.opts.service)} for ${silent} ms (stale_after ${staleAfter} ms): is the switcher's request-log reader running?`;
  }

  private onWindow(data: Uint8Array): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(data));
    } catch {
      return;
    }
    const window = requestWindowSchema.safeParse(parsed);
    if (!window.success) return;
    this.lastWindowAt = this.now();
    for (const [addr, entry] of Object.entries(window.data.upstreams)) {
      if (!this.watched.has(addr)) continue;
      let pool = this.pools.get(addr);
      if (pool === undefined) {
        pool = emptyPool();
        this.pools.set(addr, pool);
      }
      addTally(pool, entry.real, false);
      addTally(pool, entry.probe, true);
    }
    if (this.waiters.length > 0 && this.breachEvident()) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  private breachEvident(): boolean {
    for (const slo of this.opts.slos) {
      if (slo.nginx === undefined || slo.on_breach !== "rollback") continue;
      for (const pool of this.pools.values()) {
        const m = judgePool(slo.nginx, slo.max, pool);
        if (m !== undefined && (m.requests ?? 0) >= slo.min_requests && m.significant === true)
          return true;
      }
    }
    return false;
  }

  private maybeProbe(): void {
    const probe = this.opts.settings.probe;
    if (probe === undefined || probe.url === undefined) return;
    const realNow = [...this.pools.values()].reduce((a, p) => a + p.real, 0);
    if (Math.max(realNow, this.realLastRound) >= this.minRequests) return;
    void httpCall({
      url: new URL(probe.request.path, probe.url),
      method: probe.request.method,
      headers: { [PROBE_HEADER]: this.opts.probeMark },
      timeoutMs: 5_000,
      maxBodyBytes: 4_096,
    }).catch(() => undefined);
  }
}
