import { describe, expect, it } from "vitest";
import { type StoryResult, secs, summaryLines } from "./summary.ts";

const story1: StoryResult = {
  title: "deploy v1.1",
  expected: "succeeded",
  expectedExit: 0,
  exitCode: 0,
  deploymentId: "demo-1",
  problems: [],
  deployMs: 14_200,
  switchMs: 45,
  switchPath: "blue → green",
  settledMs: 120,
  requests: 300,
  failed: 0,
};

describe("secs", () => {
  it("shows ms below a second, seconds with one decimal above, n/a when unknown", () => {
    expect(secs(45.4)).toBe("45 ms");
    expect(secs(14_249)).toBe("14.2 s");
    expect(secs(undefined)).toBe("n/a");
  });
});

describe("summaryLines", () => {
  it("gives each story its outcome, timings and request counts, then the verdict", () => {
    const lines = summaryLines([story1], 60_000);
    expect(lines[0]).toContain("story 1  deploy v1.1  [demo-1]  as expected: exit 0");
    expect(lines[1]).toBe(
      "  deploy 14.2 s · switch blue → green 45 ms · traffic settled 120 ms after switch.done",
    );
    expect(lines).toContain("  requests through nginx: 300, failed: 0");
    expect(lines.at(-1)).toBe("demo: all 1 stories ended as expected (60.0 s)");
  });

  it("adds the rollback timings for a story with injected errors", () => {
    const lines = summaryLines(
      [
        {
          ...story1,
          breachMs: 1_200,
          faultToBackMs: 2_100,
          rollbackSwitchMs: 38,
          timeToRollbackMs: 900,
        },
      ],
      1,
    );
    expect(lines).toContain(
      "  errors injected → breach 1.2 s → traffic back on the previous colour 2.1 s (rollback switch 38 ms; breach → back 900 ms)",
    );
  });

  it("fails the demo when a story has a problem, listing it", () => {
    const lines = summaryLines([{ ...story1, exitCode: 4, problems: ["exit 4"] }], 1);
    expect(lines[0]).toContain("NOT AS EXPECTED");
    expect(lines).toContain("  ✗ exit 4");
    expect(lines.at(-1)).toMatch(/^demo: FAILED: 1 of 1 stories went wrong/);
  });

  it("fails with no story at all", () => {
    expect(summaryLines([], 1).at(-1)).toMatch(/^demo: FAILED/);
  });
});
