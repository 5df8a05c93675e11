import { DEPLOYMENT_ID_PATTERN } from "@bluegreen/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deploymentIdOf, newDeploymentId, sanitizeDeploymentId } from "./deployment-id.ts";

describe("deployment ids", () => {
  it("prefers the request's deploymentid extension", () => {
    expect(deploymentIdOf({ id: "ci-1", deploymentid: "d-20261126-abc" })).toBe("d-20261126-abc");
  });

  it("makes any event id fit the deployment-id pattern", () => {
    expect(sanitizeDeploymentId("ci:412.1")).toBe("ci-412-1");
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), (raw) => {
        expect(sanitizeDeploymentId(raw)).toMatch(DEPLOYMENT_ID_PATTERN);
      }),
    );
  });

  it("generates d-<yyyymmdd>-<random>", () => {
    const id = newDeploymentId(new Date("2026-11-26T10:00:00Z"), () => 0.5);
    expect(id).toBe("d-20261126-iiiiii");
    expect(newDeploymentId()).toMatch(DEPLOYMENT_ID_PATTERN);
  });
});
