import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DEFAULT_TEMPLATE, messageFields, renderTemplate } from "./render.ts";
import { globMatch, sinksFor, unknownSinks } from "./routes.ts";
import { classifyHttp } from "./sinks/sink.ts";
import { signature } from "./sinks/webhook.ts";

const routes = [
  {
    services: ["emily", "api-*"],
    events: ["deploy.rolled_back", "slo.*"],
    sinks: ["hook", "chat"],
  },
  { services: ["*"], events: ["agent.stale"], sinks: ["pager"] },
  { services: ["emily"], events: ["deploy.*"], sinks: ["hook"] },
];

describe("routes", () => {
  it.each([
    ["emily", "deploy.rolled_back", ["hook", "chat"]],
    ["api-gw", "slo.breached", ["hook", "chat"]],
    ["api-gw", "deploy.succeeded", []],
    ["emily", "deploy.succeeded", ["hook"]],
    ["other", "deploy.rolled_back", []],
    ["_", "agent.stale", ["pager"]],
  ])("%s %s → %j", (service, name, want) => {
    expect(sinksFor({ name, services: [service] }, routes)).toEqual(want);
  });

  it("globs: * spans any run, dots are literal", () => {
    expect(globMatch("deploy.*", "deploy.failed")).toBe(true);
    expect(globMatch("deploy.*", "deployXfailed")).toBe(false);
    expect(globMatch("api-*", "api-")).toBe(true);
  });

  it("names the routes' unknown sinks", () => {
    expect(unknownSinks({ routes, sinks: [{ name: "hook" }, { name: "chat" }] as never })).toEqual([
      "routes[1].sinks: no sink named 'pager'",
    ]);
  });
});

describe("sinks' answers", () => {
  const response = (status: number, headers = {}) =>
    classifyHttp({ kind: "response", status, headers, body: "", truncated: false, latencyMs: 1 });
  it.each([
    [200, "ok"],
    [204, "ok"],
    [400, "final"],
    [404, "final"],
    [408, "retry"],
    [429, "retry"],
    [500, "retry"],
    [503, "retry"],
  ])("HTTP %i is %s", (status, outcome) => {
    expect(response(status).outcome).toBe(outcome);
  });
  it("a refused connection or a timeout is retried", () => {
    const error = {
      kind: "error",
      reason: "connection refused",
      timedOut: false,
      aborted: false,
      latencyMs: 1,
    } as const;
    expect(classifyHttp(error)).toEqual({ outcome: "retry", result: "connection refused" });
    expect(classifyHttp({ ...error, timedOut: true })).toEqual({
      outcome: "retry",
      result: "timed out",
    });
  });
  it("429 honours Retry-After", () => {
    expect(response(429, { "retry-after": "7" })).toMatchObject({ retryAfterMs: 7_000 });
  });
  it("signs the timestamp and the body", () => {
    const hmac = createHmac("sha256", "s3cret").update("1700000000.{}").digest("hex");
    expect(signature("s3cret", "1700000000", "{}")).toBe(`v1=${hmac}`);
    expect(signature("s3cret", "1", "{}")).not.toBe(signature("s3cret", "2", "{}"));
    expect(signature("s3cret", "1", "{}")).toMatch(/^v1=[0-9a-f]{64}$/);
  });
});

describe("messages", () => {
  it("renders a short line with the outcome, cause, duration and link", () => {
    const fields = messageFields(
      {
        type: "bluegreen.deploy.failed",
        subject: "emily",
        time: "2026-11-26T10:00:00.000Z",
        source: "bluegreen/coordinator/c1",
        deploymentid: "d-1",
        data: {
          stage: "smoke",
          version: "v1.2",
          error: { message: "smoke check inference failed" },
        },
      },
      "https://dash.example.com/",
    );
    expect(renderTemplate(DEFAULT_TEMPLATE, fields)).toBe(
      "❌ *emily* v1.2: failed (smoke check inference failed) <https://dash.example.com/deployments/emily/d-1|deployment>",
    );
    expect(renderTemplate("${service} → ${outcome}", fields)).toBe("emily → failed");
  });
});
