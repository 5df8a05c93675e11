import type { MonitorConfigSection } from "../types.ts";
import { PrometheusSource } from "./prometheus.ts";
import { ScrapeSource } from "./scrape.ts";

export { classifyFailure, type HttpAnswer, httpGet } from "./http.ts";
export { PrometheusSource, queryFor, readQueryAnswer } from "./prometheus.ts";
export { describeSpec, metricsUrl, ScrapeSource } from "./scrape.ts";

export interface SourceSettings {
  /** The monitor host's Prometheus URL (agent config `prometheus_url`), over the definition's. */
  readonly prometheusUrl?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly observe?: (source: "prometheus" | "scrape", seconds: number) => void;
}

/** The source a definition's monitor section asks for. */
export function createSource(
  monitor: MonitorConfigSection,
  settings: SourceSettings,
  baselines?: ConstructorParameters<typeof ScrapeSource>[0]["baselines"],
): PrometheusSource | ScrapeSource {
  const source = monitor.source;
  if ("scrape" in source) {
    return new ScrapeSource({
      path: source.path,
      timeoutMs: source.timeout,
      slos: monitor.slos,
      baselines,
      observe: (s) => settings.observe?.("scrape", s),
    });
  }
  const envName = source.auth_header_env;
  const authorization = envName === undefined ? undefined : (settings.env ?? process.env)[envName];
  return new PrometheusSource({
    url: settings.prometheusUrl ?? source.prometheus,
    timeoutMs: source.timeout,
    authorization,
    configProblem:
      envName !== undefined && authorization === undefined
        ? `environment variable ${envName} (monitor.source.auth_header_env) is not set on the monitor host`
        : undefined,
    observe: (s) => settings.observe?.("prometheus", s),
  });
}
