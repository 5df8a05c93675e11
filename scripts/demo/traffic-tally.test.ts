import { describe, expect, it } from "vitest";
import {
  between,
  countSamples,
  formatSecond,
  settledOn,
  type TrafficSample,
} from "./traffic-tally.ts";

const ok = (at: number, color: string, version: string): TrafficSample => ({
  at,
  status: 200,
  color,
  version,
});
const err = (at: number, color: string, version: string): TrafficSample => ({
  at,
  status: 500,
  color,
  version,
});
const refused = (at: number): TrafficSample => ({
  at,
  status: 0,
  color: undefined,
  version: undefined,
});

describe("countSamples", () => {
  it("counts answers per colour and version, and 5xx or no answer as failed", () => {
    const counts = countSamples([
      ok(1, "blue", "v1.0"),
      ok(2, "green", "v1.1"),
      err(3, "blue", "v1.2"),
      refused(4),
      ok(5, "green", "v1.1"),
    ]);
    expect(counts.requests).toBe(5);
    expect(counts.failed).toBe(2);
    expect(Object.fromEntries(counts.byTarget)).toEqual({
      "blue v1.0": 1,
      "green v1.1": 2,
      "blue v1.2": 1,
      "no answer": 1,
    });
  });
});

describe("between", () => {
  it("keeps the samples in [from, to)", () => {
    const samples = [ok(1, "b", "1"), ok(2, "b", "1"), ok(3, "b", "1")];
    expect(between(samples, 2, 3).map((s) => s.at)).toEqual([2]);
    expect(between(samples, 2).map((s) => s.at)).toEqual([2, 3]);
  });
});

describe("formatSecond", () => {
  it("shows a bar and a count per target, sorted, then the failures", () => {
    const line = formatSecond(countSamples([ok(1, "green", "v1.1"), ok(2, "blue", "v1.0")]), 1);
    expect(line).toBe("blue v1.0 █ 1 │ green v1.1 █ 1 │ failed 0");
  });

  it("says so when nothing was sent", () => {
    expect(formatSecond(countSamples([]))).toBe("no requests");
  });
});

describe("settledOn", () => {
  it("finds the start of the first run of answers from the colour", () => {
    const samples = [
      ok(10, "blue", "v1.0"),
      ok(11, "green", "v1.1"),
      ok(12, "blue", "v1.0"), // an old worker, once more
      ok(13, "green", "v1.1"),
      ok(14, "green", "v1.1"),
      ok(15, "green", "v1.1"),
    ];
    expect(settledOn(samples, "green", 0, { run: 3 })).toBe(13);
  });

  it("does not count failed answers from the colour", () => {
    const samples = [err(1, "green", "v1.1"), ok(2, "green", "v1.1"), ok(3, "green", "v1.1")];
    expect(settledOn(samples, "green", 0, { run: 2 })).toBe(2);
    expect(settledOn(samples, "green", 0, { run: 2, okOnly: false })).toBe(1);
  });

  it("ignores what came before `since`, and is undefined when it never settles", () => {
    const samples = [ok(1, "green", "v1.1"), ok(2, "green", "v1.1"), ok(3, "blue", "v1.0")];
    expect(settledOn(samples, "green", 2, { run: 2 })).toBeUndefined();
  });
});
