import { existsSync } from "node:fs";
import {
  isProcessAlive,
  type Prometheus,
  type SampleAppHandle,
  startPrometheus,
  startSampleApp,
  waitFor,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("startPrometheus", () => {
  let app: SampleAppHandle;
  let prometheus: Prometheus;

  beforeAll(async () => {
    app = await startSampleApp({ color: "blue", version: "1.0.0" });
    prometheus = await startPrometheus({ scrapeTargets: [app.instance], scrapeInterval: "1s" });
  }, 30_000);

  afterAll(async () => {
    await prometheus?.stop();
    await app?.stop();
  });

  it("given a sample app scraped every second, its request counter is queryable", async () => {
    for (let i = 0; i < 5; i++) expect((await fetch(`${app.url}/api/v1/memory`)).status).toBe(200);

    const samples = await waitFor(
      async () => {
        const result = await prometheus.query('http_requests_total{path="/api/v1/memory"}');
        return result.length > 0 && (result[0]?.value ?? 0) >= 5 ? result : undefined;
      },
      { what: "Prometheus to have scraped 5 requests", timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(samples).toHaveLength(1);
    expect(samples[0]?.metric).toMatchObject({
      __name__: "http_requests_total",
      instance: app.instance,
      job: "sample-app",
      method: "GET",
      path: "/api/v1/memory",
      status: "200",
    });
    expect(samples[0]?.value).toBe(5);

    const [target] = await prometheus.targets();
    expect(target).toMatchObject({ health: "up", scrapeUrl: `${app.url}/metrics` });
  });

  it("answers the architecture's SLO queries", async () => {
    await app.setFaults({ errorRate: 1 });
    for (let i = 0; i < 3; i++) expect((await fetch(`${app.url}/api/v1/memory`)).status).toBe(500);
    await app.setFaults({ errorRate: 0 });
    const errors = await waitFor(
      async () => {
        const [sample] = await prometheus.query(
          `sum(http_requests_total{instance="${app.instance}",status=~"5.."})`,
        );
        return sample !== undefined && sample.value >= 3 ? sample.value : undefined;
      },
      { what: "the 500s to be scraped", timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(errors).toBe(3);
    const p95 = await prometheus.query(
      `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{instance="${app.instance}"}[1m])))`,
    );
    expect(p95).toHaveLength(1);
  });

  it("leaves nothing behind after stop()", async () => {
    const other = await startPrometheus({ scrapeTargets: [] });
    const { pid } = other.process;
    expect(existsSync(other.dir)).toBe(true);
    await other.stop();
    expect(isProcessAlive(pid)).toBe(false);
    expect(existsSync(other.dir)).toBe(false);
  });
});
