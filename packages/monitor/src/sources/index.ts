import type { MonitorConfigSection } from "../types.ts";
import { NginxSource, type StatsConnection } from "./nginx.ts";
import { PrometheusSource } from "./prometheus.ts";
import { ScrapeSource } from "./scrape.ts";

export { classifyFailure, type HttpAnswer, httpGet } from "./http.ts";
export { judgePool, NginxSource, significantlyAbove, wilsonLower } from "./nginx.ts";
export { PrometheusSource, queryFor, readQueryAnswer } from "./prometheus.ts";
export { describeSpec, metricsUrl, ScrapeSource } from "./scrape.ts";

export interface SourceSettings {
  /** The monitor host's Prometheus URL (agent config `prometheus_url`), over the definition's. */
  readonly prometheusUrl?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly observe?: (source: "prometheus" | "scrape", seconds: number) => void;
  /** The monitor's NATS connection: the nginx source subscribes to `bgstats.<service>`. */
  readonly nats?: StatsConnection | undefined;
}

/** What the nginx source needs of the watch. */
export interface WatchScope {
  readonly service: string;
  readonly deploymentId: string;
  readonly instances: readonly string[];
}

export type AnySource = PrometheusSource | ScrapeSource | NginxSource;

/** The source a definition's monitor section asks for. */
export function createSource(
  monitor: MonitorConfigSection,
  settings: SourceSettings,
  baselines?: ConstructorParameters<typeof ScrapeSource>[0]["baselines"],
  scope?: WatchScope,
): AnySource {
  const source = monitor.source;
  if (!("prometheus" in source) && !("scrape" in source))
    return nginxSource(monitor, source.nginx, settings, scope);
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

/** The nginx source beside Prometheus or scrape (SLOs with an `nginx` spec), if configured. */
export function createBesideSource(
  monitor: MonitorConfigSection,
  settings: SourceSettings,
  scope: WatchScope,
): NginxSource | undefined {
  const source = monitor.source;
  if (!("prometheus" in source) && !("scrape" in source)) return undefined;
  if (source.nginx === undefined) return undefined;
  return nginxSource(
    { ...monitor, slos: monitor.slos.filter((s) => s.nginx !== undefined) },
    source.nginx,
    settings,
    scope,
  );
}

function nginxSource(
  monitor: MonitorConfigSection,
  nginx: ConstructorParameters<typeof NginxSource>[0]["settings"],
  settings: SourceSettings,
  scope: WatchScope | undefined,
): NginxSource {
  if (settings.nats === undefined || scope === undefined)
    throw new Error("the nginx source needs the monitor's NATS connection and the watch");
  return new NginxSource({
    nc: settings.nats,
    service: scope.service,
    instances: scope.instances,
    slos: monitor.slos,
    settings: nginx,
    probeMark: scope.deploymentId,
  });
}
