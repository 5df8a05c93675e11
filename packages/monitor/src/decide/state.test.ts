import { compileServiceDefinition } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { newWatch, watchStateSchema } from "./state.ts";

const def = compileServiceDefinition(`
service: emily
nodes:
  blue: { host: 127.0.0.1, port: 8001 }
  green: [{ host: 127.0.0.1, port: 8002 }, { host: 127.0.0.1, port: 8003 }]
deploy: { workdir: /opt/emily, steps: [["true"]] }
traffic: { upstream: emily_active, file: /tmp/emily.conf, verify: { url: "http://127.0.0.1/health" } }
monitor:
  window: 30m
  interval: 60s
  source: { prometheus: "http://127.0.0.1:9090", auth_header_env: PROM_AUTH }
  slos:
    - { name: error-ratio, query: "sum(rate(x[1m]))", max: 0.05 }
    - { name: p95, query: "histogram_quantile(0.95, y)", max: 5, on_breach: warn, no_traffic: pass }
  inconclusive: { limit: 3, consecutive: true }
`);

describe("newWatch", () => {
  const watch = newWatch({
    service: "emily",
    deploymentId: "d-1",
    color: "green",
    version: "v1.1",
    instances: ["127.0.0.1:8002", "127.0.0.1:8003"],
    monitor: def.monitor,
    now: 1_000,
    owner: "monitor/m1",
  });

  it("starts the window now with every counter at zero", () => {
    expect(watch).toMatchObject({
      status: "watching",
      startedAt: 1_000,
      lastCheckAt: 1_000,
      deadline: 1_000 + 30 * 60_000,
      checks: 0,
      announced: false,
      resumes: 0,
    });
    expect(Object.keys(watch.slos)).toEqual(["error-ratio", "p95"]);
  });

  it("reads back from its JSON unchanged, so a restarted monitor resumes the same watch", () => {
    const json = JSON.parse(JSON.stringify(watch));
    expect(watchStateSchema.parse(json)).toEqual(watch);
  });

  it("refuses a stored value that is not a watch", () => {
    expect(watchStateSchema.safeParse({ v: 1, service: "emily" }).success).toBe(false);
  });
});
