import { PHASES } from "@bluegreen/coordinator";
import { describe, expect, it } from "vitest";
import { storedOutcome, untilOption } from "./until.ts";

const state = (phase: string) => ({ phase }) as Parameters<typeof storedOutcome>[0];

describe("storedOutcome", () => {
  it("an ended deployment: its outcome code; a running one: nothing yet", () => {
    const codes = Object.fromEntries(PHASES.map((p) => [p, storedOutcome(state(p), "done")]));
    expect(codes).toEqual({
      requested: undefined,
      deploying: undefined,
      readiness: undefined,
      smoke: undefined,
      awaiting_promotion: undefined,
      switching: undefined,
      monitoring: undefined,
      rolling_back: undefined,
      succeeded: 0,
      rejected: 3,
      failed: 4,
      rolled_back: 5,
      aborted: 7,
    });
  });

  it("--until switched: monitoring (traffic is on the new colour) is exit 0 already", () => {
    expect(storedOutcome(state("monitoring"), "switched")).toBe(0);
    expect(storedOutcome(state("switching"), "switched")).toBeUndefined();
  });

  it("--until takes switched or done only", () => {
    expect(untilOption({})).toBe("done");
    expect(untilOption({ until: "switched" })).toBe("switched");
    expect(() => untilOption({ until: "soon" })).toThrow(/expected 'switched' or 'done'/);
  });
});
