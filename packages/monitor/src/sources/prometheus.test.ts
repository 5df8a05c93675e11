import { createServer } from "node:net";
import { sloSchema } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { PrometheusSource, queryFor, readQueryAnswer } from "./prometheus.ts";

const ok = (data: unknown) => JSON.stringify({ status: "success", data });

describe("readQueryAnswer", () => {
  it("reads a one-sample vector and a scalar", () => {
    expect(
      readQueryAnswer(
        200,
        ok({ resultType: "vector", result: [{ metric: {}, value: [1, "0.25"] }] }),
      ),
    ).toEqual({
      kind: "value",
      value: 0.25,
    });
    expect(readQueryAnswer(200, ok({ resultType: "scalar", result: [1, "3"] }))).toEqual({
      kind: "value",
      value: 3,
    });
  });

  it("takes the worst of several series, ignoring NaN ones", () => {
    const result = [
      { metric: { instance: "a" }, value: [1, "0.1"] },
      { metric: { instance: "b" }, value: [1, "NaN"] },
      { metric: { instance: "c" }, value: [1, "0.7"] },
    ];
    expect(readQueryAnswer(200, ok({ resultType: "vector", result }))).toEqual({
      kind: "value",
      value: 0.7,
    });
  });

  it("tells no series from NaN", () => {
    expect(readQueryAnswer(200, ok({ resultType: "vector", result: [] })).kind).toBe("no_data");
    expect(
      readQueryAnswer(
        200,
        ok({ resultType: "vector", result: [{ metric: {}, value: [1, "NaN"] }] }),
      ).kind,
    ).toBe("nan");
  });

  it("reads +Inf as a number to judge", () => {
    expect(readQueryAnswer(200, ok({ resultType: "scalar", result: [1, "+Inf"] }))).toEqual({
      kind: "value",
      value: Number.POSITIVE_INFINITY,
    });
  });

  it("turns a query error, a matrix and garbage into coded errors, never a value", () => {
    const bad = JSON.stringify({
      status: "error",
      errorType: "bad_data",
      error: "parse error at char 5",
    });
    expect(readQueryAnswer(400, bad)).toEqual({
      kind: "error",
      reason: "error",
      detail: "HTTP 400: bad_data: parse error at char 5",
    });
    expect(readQueryAnswer(200, ok({ resultType: "matrix", result: [] })).kind).toBe("error");
    expect(readQueryAnswer(502, "<html>bad gateway</html>")).toMatchObject({
      kind: "error",
      reason: "error",
    });
  });
});

describe("queryFor and targets", () => {
  const slo = sloSchema.parse({
    name: "errors",
    query: 'sum(rate(x{instance="${instance}",color="${color}",job="${service}"}[5s]))',
    max: 0.05,
  });
  const base = { service: "emily", color: "green" as const };

  it("substitutes the placeholders", () => {
    expect(queryFor(slo, { ...base, instance: "127.0.0.1:8002" })).toBe(
      'sum(rate(x{instance="127.0.0.1:8002",color="green",job="emily"}[5s]))',
    );
  });

  it("runs a query naming ${instance} once per node, any other once", () => {
    const source = new PrometheusSource({ url: "http://127.0.0.1:9", timeoutMs: 100 });
    expect(source.targets(slo, base, ["a:1", "b:2"]).map((t) => t.instance)).toEqual([
      "a:1",
      "b:2",
    ]);
    const colourWide = { ...slo, query: "sum(rate(x[5s]))" };
    expect(source.targets(colourWide, base, ["a:1", "b:2"])).toEqual([base]);
  });

  it("answers unreachable when nothing listens", async () => {
    const port = await closedPort();
    const source = new PrometheusSource({ url: `http://127.0.0.1:${port}/`, timeoutMs: 1_000 });
    const m = await source.measure(slo, { ...base, instance: "a:1" });
    expect(m).toMatchObject({ kind: "error", reason: "unreachable" });
  });

  it("never queries when the auth header's variable is missing", async () => {
    const source = new PrometheusSource({
      url: "http://127.0.0.1:9",
      timeoutMs: 100,
      configProblem: "PROM_AUTH unset",
    });
    expect(await source.measure(slo, base)).toEqual({
      kind: "error",
      reason: "error",
      detail: "PROM_AUTH unset",
    });
  });
});

/** A loopback port that was free a moment ago and has nothing listening now. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
