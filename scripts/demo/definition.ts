// The demo's service definition: examples/local/service.yaml rendered for this run, with a
// short SLO watch (8 s at 1 s) so both stories fit in a minute. The direct-scrape source by
// default; `--prometheus` uses the Prometheus source with rate windows matched to a 1 s scrape.

import { parseDocument } from "yaml";
import { LOCAL_SERVICE, renderLocalDefinition } from "../../examples/local/definition.ts";

export const DEMO_SERVICE = LOCAL_SERVICE;

export const MonitorSource = {
  scrape: "scrape",
  prometheus: "prometheus",
  nginx: "nginx",
} as const;
export type MonitorSource = (typeof MonitorSource)[keyof typeof MonitorSource];

export interface DemoDefinitionOptions {
  readonly stateDir: string;
  readonly bluePort: number;
  readonly greenPort: number;
  readonly upstreamFile: string;
  /** Through nginx: the switcher verifies here that traffic moved. */
  readonly verifyUrl: string;
  readonly source: MonitorSource;
  /** Required with the Prometheus source. */
  readonly prometheusUrl?: string;
  /** Default 8s. */
  readonly window?: string;
}

const RATE = "[5s]";

/** The `monitor` section: error ratio (rollback) and p95 latency (warn), watched briefly. */
export function demoMonitor(opts: DemoDefinitionOptions): Record<string, unknown> {
  const prometheus = opts.source === MonitorSource.prometheus;
  const nginx = opts.source === MonitorSource.nginx;
  if (prometheus && opts.prometheusUrl === undefined) {
    throw new Error("the Prometheus source needs prometheusUrl");
  }
  const errorRatio = `(sum(rate(http_requests_total{instance="\${instance}",status=~"5.."}${RATE})) or vector(0)) / sum(rate(http_requests_total{instance="\${instance}"}${RATE}))`;
  const p95 = `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{instance="\${instance}"}${RATE})))`;
  return {
    window: opts.window ?? "8s",
    interval: "1s",
    source: prometheus
      ? { prometheus: opts.prometheusUrl }
      : nginx
        ? { nginx: {} }
        : { scrape: true },
    slos: [
      {
        name: "error-ratio",
        query: errorRatio,
        scrape: { errorRatio: {} },
        ...(nginx ? { nginx: { errorRatio: {} } } : {}),
        max: 0.05,
        on_breach: "rollback",
        min_requests: 3,
      },
      {
        name: "p95-latency",
        query: p95,
        scrape: { quantile: { q: 0.95 } },
        ...(nginx ? { nginx: { quantile: { q: 0.95 } } } : {}),
        max: 2.0,
        on_breach: "warn",
      },
    ],
    inconclusive: { limit: 5, on_limit: "rollback" },
  };
}

/** The YAML text to apply: the local example, with the demo's monitor section. */
export function renderDemoDefinition(opts: DemoDefinitionOptions): string {
  const text = renderLocalDefinition({
    stateDir: opts.stateDir,
    bluePort: opts.bluePort,
    greenPort: opts.greenPort,
    upstreamFile: opts.upstreamFile,
    verifyUrl: opts.verifyUrl,
    ...(opts.prometheusUrl === undefined ? {} : { prometheusUrl: opts.prometheusUrl }),
  });
  const doc = parseDocument(text);
  doc.set("monitor", doc.createNode(demoMonitor(opts)));
  return `# rendered by scripts/demo from examples/local/service.yaml\n${doc.toString({ lineWidth: 0 })}`;
}
