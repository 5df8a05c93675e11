import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BLUEGREEN_VERSION, VERSION } from "./version.ts";

describe("BLUEGREEN_VERSION", () => {
  it("is the root package.json's version (the one place it is written)", () => {
    const root = JSON.parse(
      readFileSync(new URL("../../../package.json", import.meta.url), "utf8"),
    );
    expect(root.name).toBe("bluegreen");
    expect(BLUEGREEN_VERSION).toBe(root.version);
  });
  it("is VERSION, the constant `npm run gen` writes (no run-time read: it works in a bundle)", () => {
    expect(BLUEGREEN_VERSION).toBe(VERSION);
    const source = readFileSync(new URL("./version.ts", import.meta.url), "utf8");
    expect(source).not.toMatch(/readFileSync|import\.meta/);
  });
});
