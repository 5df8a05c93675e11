// Prometheus for tests: a temp config scraping the given targets, a temp TSDB, a free
// loopback port. Everything it writes stays inside its temp dir.

import { writeFileSync } from "node:fs";
import { Binaries, findBinary, TestSupportError } from "./binaries.ts";
import { freePort } from "./ports.ts";
import { type ManagedProcess, spawnProcess } from "./process.ts";
import { makeTempDir } from "./tmp.ts";
import { httpGet, waitFor } from "./wait.ts";

export interface StartPrometheusOptions {
  /** `host:port` of each target, scraped at /metrics under one job. */
  readonly scrapeTargets: readonly string[];
  /** Default "1s". */
  readonly scrapeInterval?: string;
  /** Default "sample-app". */
  readonly jobName?: string;
  readonly port?: number;
  /**
   * Return only once every target has been scraped (up or down) at least once (default true).
   * Prometheus 2.42 applies new targets on a fixed 5 s tick, so this takes about 5 s.
   */
  readonly waitForFirstScrape?: boolean;
  /** Default 20 s. */
  readonly startTimeoutMs?: number;
}

export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  /** The sample value as a number (NaN and ±Inf included). */
  readonly value: number;
  readonly timestamp: number;
}

export interface PromTarget {
  readonly scrapeUrl: string;
  readonly health: "up" | "down" | "unknown";
  readonly lastError: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface Prometheus extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly configPath: string;
  readonly process: ManagedProcess;
  /** Instant query; the raw `data` of /api/v1/query. Throws on an error answer. */
  queryRaw(promql: string): Promise<{ resultType: string; result: unknown }>;
  /** Instant query returning a vector (a scalar comes back as one sample without labels). */
  query(promql: string): Promise<PromSample[]>;
  /** The active scrape targets. */
  targets(): Promise<PromTarget[]>;
  stop(): Promise<void>;
}

/** Prometheus writes sample values as strings: "0.5", "NaN", "+Inf", "-Inf". */
function parseValue(text: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** Starts Prometheus scraping `scrapeTargets` and waits for /-/ready. */
export async function startPrometheus(options: StartPrometheusOptions): Promise<Prometheus> {
  const command = findBinary(Binaries.prometheus);
  const dir = await makeTempDir("prometheus");
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const interval = options.scrapeInterval ?? "1s";
  const configPath = dir.file("prometheus.yml");
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    scrape_configs: [
      {
        job_name: options.jobName ?? "sample-app",
        static_configs: [{ targets: [...options.scrapeTargets] }],
      },
    ],
  };
  // JSON is YAML.
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  const proc = await spawnProcess({
    name: "prometheus",
    command,
    args: [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${dir.file("data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.console.templates=${dir.file("consoles")}`,
      `--web.console.libraries=${dir.file("console_libraries")}`,
      "--storage.tsdb.retention.time=1h",
    ],
    cwd: dir.path,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await proc.stop({ timeoutMs: 10_000 });
    await dir.remove();
  };
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { status: string; data?: T; error?: string };
    if (body.status !== "success" || body.data === undefined) {
      throw new TestSupportError(
        `Prometheus ${path}: ${response.status} ${body.error ?? "no data"}`,
      );
    }
    return body.data;
  };
  const queryRaw = (promql: string) =>
    api<{ resultType: string; result: unknown }>(
      `/api/v1/query?query=${encodeURIComponent(promql)}`,
    );
  const targets = async (): Promise<PromTarget[]> => {
    const data = await api<{ activeTargets: PromTarget[] }>("/api/v1/targets?state=active");
    return data.activeTargets.map(({ scrapeUrl, health, lastError, labels }) => ({
      scrapeUrl,
      health,
      lastError,
      labels,
    }));
  };

  const timeoutMs = options.startTimeoutMs ?? 20_000;
  try {
    await waitFor(
      async () => ((await httpGet(`${url}/-/ready`))?.status === 200 ? true : undefined),
      {
        what: `${url}/-/ready to answer 200`,
        timeoutMs,
        process: proc,
      },
    );
    if ((options.waitForFirstScrape ?? true) && options.scrapeTargets.length > 0) {
      await waitFor(
        async () => {
          const scraped = (await targets()).filter((t) => t.health !== "unknown").length;
          return scraped >= options.scrapeTargets.length ? true : undefined;
        },
        {
          what: `a first scrape of ${options.scrapeTargets.join(", ")}`,
          timeoutMs,
          intervalMs: 100,
          process: proc,
        },
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url,
    port,
    dir: dir.path,
    configPath,
    process: proc,
    queryRaw,
    async query(promql) {
      const data = await queryRaw(promql);
      if (data.resultType === "scalar") {
        const [timestamp, value] = data.result as [number, string];
        return [{ metric: {}, value: parseValue(value), timestamp }];
      }
      if (data.resultType !== "vector") {
        throw new TestSupportError(
          `query(${promql}) returned a ${data.resultType}, expected a vector`,
        );
      }
      return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map(
        (s) => ({ metric: s.metric, value: parseValue(s.value[1]), timestamp: s.value[0] }),
      );
    },
    targets,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
