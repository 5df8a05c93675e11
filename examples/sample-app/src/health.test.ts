import { describe, expect, it } from "vitest";
import { applyFaultsPatch, NO_FAULTS } from "./faults.ts";
import { healthState } from "./health.ts";

describe("healthState", () => {
  it("is healthy without faults once the slow start is over", () => {
    expect(healthState(NO_FAULTS, 1000, 0, 1000)).toEqual({ healthy: true });
    expect(healthState(NO_FAULTS, 1000, 500, 1500)).toEqual({ healthy: true });
  });

  it("is unhealthy while starting slowly", () => {
    expect(healthState(NO_FAULTS, 1000, 500, 1499)).toEqual({ healthy: false, reason: "starting" });
  });

  it("is unhealthy while a health failure is injected", () => {
    const failing = applyFaultsPatch(NO_FAULTS, { healthFail: true });
    expect(healthState(failing, 0, 0, 10)).toEqual({ healthy: false, reason: "injected" });
  });
});
