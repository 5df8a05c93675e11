import { describe, expect, it } from "vitest";
import { nextCheckAt, remainingMs, windowDone } from "./schedule.ts";

describe("nextCheckAt", () => {
  const s = { startedAt: 1_000, deadline: 11_000 };
  it("puts the first check one interval after the start", () => {
    expect(nextCheckAt({ ...s, lastCheckAt: 1_000 }, 1_000)).toBe(2_000);
  });
  it("keeps to the grid when a check ran a little late", () => {
    expect(nextCheckAt({ ...s, lastCheckAt: 3_040 }, 1_000)).toBe(4_000);
  });
  it("does not replay slots missed while the monitor was down", () => {
    expect(nextCheckAt({ ...s, lastCheckAt: 7_500 }, 1_000)).toBe(8_000);
  });
  it("ends on the deadline when the window is not a whole number of intervals", () => {
    expect(nextCheckAt({ startedAt: 0, deadline: 2_500, lastCheckAt: 2_000 }, 1_000)).toBe(2_500);
    expect(nextCheckAt({ startedAt: 0, deadline: 500, lastCheckAt: 0 }, 1_000)).toBe(500);
  });
});

describe("windowDone and remainingMs", () => {
  it("ends once a check ran at the deadline", () => {
    expect(windowDone({ startedAt: 0, deadline: 10, lastCheckAt: 9 })).toBe(false);
    expect(windowDone({ startedAt: 0, deadline: 10, lastCheckAt: 10 })).toBe(true);
    expect(remainingMs({ startedAt: 0, deadline: 10, lastCheckAt: 0 }, 4)).toBe(6);
    expect(remainingMs({ startedAt: 0, deadline: 10, lastCheckAt: 0 }, 40)).toBe(0);
  });
});
