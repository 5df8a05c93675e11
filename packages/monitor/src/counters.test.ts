import { describe, expect, it } from "vitest";
import { counterDeltas } from "./counters.ts";

describe("counterDeltas", () => {
  it("subtracts the previous scrape", () => {
    expect(counterDeltas({ "200": 10, "500": 1 }, { "200": 25, "500": 4 })).toEqual({
      deltas: { "200": 15, "500": 3 },
      reset: false,
    });
  });

  it("counts a series that appeared since the previous scrape from zero", () => {
    expect(counterDeltas({ "200": 10 }, { "200": 12, "500": 5 }).deltas).toEqual({
      "200": 2,
      "500": 5,
    });
  });

  it("treats a counter that went down as a restart: the new value is the delta", () => {
    expect(counterDeltas({ "200": 100, "500": 3 }, { "200": 7, "500": 3 })).toEqual({
      deltas: { "200": 7, "500": 3 },
      reset: true,
    });
  });

  it("treats a vanished series as a restart", () => {
    expect(counterDeltas({ "200": 100, "500": 3 }, { "200": 150 })).toEqual({
      deltas: { "200": 150 },
      reset: true,
    });
  });
});
