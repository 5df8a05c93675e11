import { compileServiceDefinition } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { DEMO_SERVICE, MonitorSource, renderDemoDefinition } from "./definition.ts";
import { demoSiteConfig } from "./site.ts";

const base = {
  stateDir: "/tmp/bg-demo/apps",
  bluePort: 18101,
  greenPort: 18102,
  upstreamFile: "/tmp/bg-demo/upstream/local-app-active.conf",
  verifyUrl: "http://127.0.0.1:18100/health",
};

describe("renderDemoDefinition", () => {
  it("renders the local example with a short direct-scrape watch", () => {
    const def = compileServiceDefinition(
      renderDemoDefinition({ ...base, source: MonitorSource.scrape }),
    );
    expect(def.service).toBe(DEMO_SERVICE);
    expect(def.monitor.window).toBe(8_000);
    expect(def.monitor.interval).toBe(1_000);
    expect(def.monitor.source).toMatchObject({ scrape: true });
    expect(def.monitor.slos.map((s) => [s.name, s.on_breach])).toEqual([
      ["error-ratio", "rollback"],
      ["p95-latency", "warn"],
    ]);
    expect(def.traffic.file).toBe(base.upstreamFile);
    expect(def.traffic.verify.url).toBe(base.verifyUrl);
    expect(def.smoke.map((c) => c.name)).toEqual(["health", "inference", "memory"]);
  });

  it("uses the Prometheus source with rate windows matched to a 1 s scrape", () => {
    const def = compileServiceDefinition(
      renderDemoDefinition({
        ...base,
        source: MonitorSource.prometheus,
        prometheusUrl: "http://127.0.0.1:19090",
        window: "12s",
      }),
    );
    expect(def.monitor.window).toBe(12_000);
    expect(def.monitor.source).toMatchObject({ prometheus: "http://127.0.0.1:19090" });
    expect(def.monitor.slos[0]?.query).toContain("[5s]");
    expect(def.monitor.slos[0]?.query).toContain("or vector(0)");
  });

  it("refuses the Prometheus source without a URL", () => {
    expect(() => renderDemoDefinition({ ...base, source: MonitorSource.prometheus })).toThrow(
      /prometheusUrl/,
    );
  });
});

describe("demoSiteConfig", () => {
  it("includes the upstream file and proxies to the definition's upstream", () => {
    const site = demoSiteConfig({
      host: "127.0.0.1",
      port: 18100,
      upstreamFile: base.upstreamFile,
      upstream: "local_app_active",
    });
    expect(site).toContain(`include "${base.upstreamFile}";`);
    expect(site).toContain("listen 127.0.0.1:18100;");
    expect(site).toContain("proxy_pass http://local_app_active;");
    expect(site).toContain("$bluegreen_local_app_active_generation");
  });
});
