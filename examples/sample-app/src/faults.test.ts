import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyFaultsPatch,
  classifyPath,
  decideFault,
  type Faults,
  NO_FAULTS,
  parseFaultsPatch,
  RouteKind,
} from "./faults.ts";

const faults = (patch: Partial<Faults>): Faults => applyFaultsPatch(NO_FAULTS, patch);

describe("classifyPath", () => {
  it.each([
    ["/health", RouteKind.Health],
    ["/metrics", RouteKind.Control],
    ["/admin/faults", RouteKind.Control],
    ["/admin", RouteKind.Control],
    ["/api/v1/inference", RouteKind.App],
    ["/api/v1/memory", RouteKind.App],
    ["/healthz", RouteKind.App],
    ["/administrator", RouteKind.App],
  ])("%s is %s", (path, kind) => {
    expect(classifyPath(path)).toBe(kind);
  });
});

describe("decideFault", () => {
  it("fails no request at errorRate 0 and every request at errorRate 1", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (random) => {
        expect(decideFault(RouteKind.App, faults({ errorRate: 0 }), random).fail).toBe(false);
        expect(decideFault(RouteKind.App, faults({ errorRate: 1 }), random).fail).toBe(true);
      }),
    );
  });

  it("fails about errorRate of the requests", () => {
    const rate = 0.3;
    const draws = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const failed = draws.filter(
      (r) => decideFault(RouteKind.App, faults({ errorRate: rate }), r).fail,
    );
    expect(failed.length).toBe(300);
  });

  it("never fails /health, /metrics or /admin, whatever the error rate", () => {
    const all = faults({ errorRate: 1, latencyMs: 250, healthFail: true });
    expect(decideFault(RouteKind.Health, all, 0)).toEqual({ delayMs: 250, fail: false });
    expect(decideFault(RouteKind.Control, all, 0)).toEqual({ delayMs: 0, fail: false });
  });

  it("delays application requests and /health by latencyMs", () => {
    const slow = faults({ latencyMs: 1200 });
    expect(decideFault(RouteKind.App, slow, 0.5).delayMs).toBe(1200);
    expect(decideFault(RouteKind.Health, slow, 0.5).delayMs).toBe(1200);
  });
});

describe("parseFaultsPatch", () => {
  it("accepts any subset of the fields", () => {
    expect(parseFaultsPatch({})).toEqual({ ok: true, patch: {} });
    expect(parseFaultsPatch({ errorRate: 0.5, latencyMs: 10, healthFail: true })).toEqual({
      ok: true,
      patch: { errorRate: 0.5, latencyMs: 10, healthFail: true },
    });
  });

  it("lists every problem", () => {
    const result = parseFaultsPatch({ errorRate: 1.5, latencyMs: -1, healthFail: "yes", other: 1 });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toEqual([
      "errorRate: expected a number from 0 to 1",
      "latencyMs: expected an integer from 0 to 600000",
      "healthFail: expected a boolean",
      "other: unknown field (expected errorRate, latencyMs, healthFail)",
    ]);
  });

  it.each([null, [], "x", 3])("rejects %j as not an object", (input) => {
    expect(parseFaultsPatch(input)).toEqual({ ok: false, problems: ["expected a JSON object"] });
  });

  it("merges a patch over the current faults", () => {
    const current = faults({ errorRate: 0.2, latencyMs: 5 });
    expect(applyFaultsPatch(current, { latencyMs: 0 })).toEqual({
      errorRate: 0.2,
      latencyMs: 0,
      healthFail: false,
    });
  });
});
