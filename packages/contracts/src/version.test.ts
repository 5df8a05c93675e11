import { describe, expect, it } from "vitest";
import { assertSafeVersion, isSafeVersion, versionProblem } from "./version.ts";

describe("version rule", () => {
  it.each(["v1.0", "v1.1", "1.2.3", "release/2026.11", "v2.0.0-rc.1", "1.0.0+build.5", "a"])(
    "accepts %s",
    (v) => expect(versionProblem(v)).toBeUndefined(),
  );

  it.each([
    ["v1;rm -rf /", "';'"],
    ["$(id)", "'$'"],
    ["`id`", "'`'"],
    ["../x", "'..'"],
    ["v1/../../etc", "'..'"],
    ["-rf", "'-'"],
    ["--upload-pack=x", "'-'"],
    ["v1 v2", "whitespace"],
    ["v1\nv2", "whitespace"],
    ["v1|cat", "'|'"],
    ["v1&&x", "'&'"],
    ["v1>x", "'>'"],
    ["x".repeat(200), "200 characters"],
    ["", "empty"],
    [".hidden", "start with a letter"],
    ["a//b", "'//'"],
  ])("refuses %j (%s)", (v, why) => {
    expect(isSafeVersion(v)).toBe(false);
    expect(versionProblem(v)).toContain(why);
  });

  it("accepts exactly 128 characters and refuses 129", () => {
    expect(isSafeVersion("v".repeat(128))).toBe(true);
    expect(isSafeVersion("v".repeat(129))).toBe(false);
  });

  it("throws a coded error", () => {
    expect(() => assertSafeVersion("$(id)")).toThrow(
      expect.objectContaining({ code: "BG_ERR_VERSION_UNSAFE" }),
    );
  });
});

describe("VERSION_PATTERN", () => {
  it("agrees with versionProblem on every sample", async () => {
    const { VERSION_PATTERN } = await import("./version.ts");
    const fc = (await import("fast-check")).default;
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(..."aZ09._+/-;$ `|&".split("")), maxLength: 140 }),
        (v) => {
          expect(VERSION_PATTERN.test(v)).toBe(versionProblem(v) === undefined);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
