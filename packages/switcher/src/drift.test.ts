import { describe, expect, it } from "vitest";
import { driftAction } from "./drift.ts";

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
