import { describe, expect, it } from "vitest";
import { expandArgv, expandPlaceholders } from "./placeholders.ts";

describe("placeholders", () => {
  it("substitutes inside one argv element only", () => {
    const argv = expandArgv(["git", "checkout", "${version}", "--", "${service}-${color}"], {
      version: "v1.1 --evil",
      service: "emily",
      color: "green",
    });
    expect(argv).toEqual(["git", "checkout", "v1.1 --evil", "--", "emily-green"]);
  });

  it("leaves unknown placeholders as written", () => {
    expect(expandPlaceholders('rate(x{instance="${instance}"}) ${nope}', { instance: "h:1" })).toBe(
      'rate(x{instance="h:1"}) ${nope}',
    );
  });
});
