import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isValidVersion, versionProblem } from "./version.ts";

describe("versionProblem", () => {
  it.each(["1.0.0", "v1.1", "2024.01.02+build.7", "a", "release-candidate_3", "x".repeat(128)])(
    "accepts %s",
    (version) => {
      expect(versionProblem(version)).toBeUndefined();
    },
  );

  it.each([
    ["", "empty"],
    ["-rf", "leading dash"],
    [".hidden", "leading dot"],
    ["1..2", "double dot"],
    ["../etc", "path traversal"],
    ["a/b", "slash"],
    ["v1 1", "space"],
    ["v1\n", "newline"],
    ["x".repeat(129), "too long"],
    ["$(reboot)", "shell syntax"],
  ])("rejects %j (%s)", (version) => {
    expect(versionProblem(version)).toMatch(/invalid version/);
  });

  it("never accepts a version that could escape a directory or start an option", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140 }), (version) => {
        if (!isValidVersion(version)) return;
        expect(version).not.toContain("/");
        expect(version).not.toContain("..");
        expect(version.startsWith("-")).toBe(false);
        expect(version.length).toBeLessThanOrEqual(128);
      }),
    );
  });
});
