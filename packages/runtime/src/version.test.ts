import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BLUEGREEN_VERSION, readBluegreenVersion } from "./version.ts";

describe("BLUEGREEN_VERSION", () => {
  it("is the root package.json's version (the one place it is written)", () => {
    const root = JSON.parse(
      readFileSync(new URL("../../../package.json", import.meta.url), "utf8"),
    );
    expect(root.name).toBe("bluegreen");
    expect(BLUEGREEN_VERSION).toBe(root.version);
  });
  it("says it does not know, outside a checkout", () => {
    expect(readBluegreenVersion("/")).toBe("0.0.0-unknown");
  });
});
