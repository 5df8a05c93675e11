import { describe, expect, it } from "vitest";
import { parseDemoArgs } from "./args.ts";

describe("parseDemoArgs", () => {
  it("runs with direct scrape and cleans up by default", () => {
    expect(parseDemoArgs([])).toEqual({ kind: "run", args: { keep: false, prometheus: false } });
  });

  it("takes --keep and --prometheus in any order", () => {
    expect(parseDemoArgs(["--prometheus", "--keep"])).toEqual({
      kind: "run",
      args: { keep: true, prometheus: true },
    });
  });

  it("answers --help before anything else", () => {
    expect(parseDemoArgs(["--keep", "-h"])).toEqual({ kind: "help" });
  });

  it("refuses what it does not know, naming it", () => {
    expect(parseDemoArgs(["--kep"])).toEqual({
      kind: "usage-error",
      message: "unknown argument '--kep'",
    });
  });
});
