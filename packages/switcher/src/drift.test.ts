import { describe, expect, it } from "vitest";
import { driftAction, retryDue, standingAfter } from "./drift.ts";

describe("driftAction", () => {
  it("does nothing when file and record agree", () => {
    for (const mode of ["reapply", "adopt", "report"] as const) {
      expect(driftAction(mode, "blue", "blue")).toBe("none");
      expect(driftAction(mode, null, null)).toBe("none");
    }
  });

  it("follows the setting when both name a colour", () => {
    expect(driftAction("reapply", "green", "blue")).toBe("reapply");
    expect(driftAction("adopt", "green", "blue")).toBe("adopt");
    expect(driftAction("report", "green", "blue")).toBe("report");
  });

  it("adopts the file when nothing is recorded (unless only reporting)", () => {
    expect(driftAction("reapply", null, "blue")).toBe("adopt");
    expect(driftAction("adopt", null, "blue")).toBe("adopt");
    expect(driftAction("report", null, "blue")).toBe("report");
  });

  it("cannot adopt a file that names no colour", () => {
    expect(driftAction("reapply", "green", null)).toBe("reapply");
    expect(driftAction("adopt", "green", null)).toBe("report");
  });
});

describe("standingAfter: a drift left as reported", () => {
  const at = { mode: "reapply" as const, nowMs: 1_000_000, intervalMs: 1_000, served: false };

  it("tries a failed repair again after one interval, then doubles the wait up to a minute", () => {
    let standing = standingAfter(undefined, "blue/green/-", at);
    expect(standing).toEqual({
      key: "blue/green/-",
      served: false,
      failures: 1,
      retryAt: 1_001_000,
    });
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      standing = standingAfter(standing, "blue/green/-", at);
      waits.push(standing.retryAt - at.nowMs);
    }
    expect(waits).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it("starts over for another drift", () => {
    const first = standingAfter(undefined, "blue/green/-", at);
    const again = standingAfter(standingAfter(first, "blue/green/-", at), "blue/null/-", at);
    expect(again).toMatchObject({ key: "blue/null/-", failures: 1, retryAt: 1_001_000 });
  });

  it("never retries what `report` only reports", () => {
    const standing = standingAfter(undefined, "blue/green/-", { ...at, mode: "report" });
    expect(standing.retryAt).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("retryDue: when a check may act on a drift left standing", () => {
  const standing = { key: "blue/blue/green", served: true, failures: 1, retryAt: 10_000 };

  it("only looks before the wait is over, and acts on the tick that comes about when it ends", () => {
    expect(retryDue(standing, 8_000, 1_000)).toBe(false);
    expect(retryDue(standing, 9_400, 1_000)).toBe(false);
    // A tick a little early (the check before it took a while) is the retry, not the next one.
    expect(retryDue(standing, 9_600, 1_000)).toBe(true);
    expect(retryDue(standing, 12_000, 1_000)).toBe(true);
  });

  it("never for what `report` only reports", () => {
    expect(retryDue({ ...standing, retryAt: Number.POSITIVE_INFINITY }, 1e15, 1_000)).toBe(false);
  });
});
