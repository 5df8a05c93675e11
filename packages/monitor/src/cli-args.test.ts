import { describe, expect, it } from "vitest";
import { parseCliArgs } from "./cli-args.ts";

describe("parseCliArgs", () => {
  it("reads --config in both spellings", () => {
    expect(parseCliArgs(["--config", "/etc/bg/monitor.yaml"])).toEqual({
      kind: "run",
      configPath: "/etc/bg/monitor.yaml",
    });
    expect(parseCliArgs(["--config=m.yaml"])).toEqual({ kind: "run", configPath: "m.yaml" });
  });
  it("asks for help", () => {
    expect(parseCliArgs(["--config", "x", "-h"])).toEqual({ kind: "help" });
  });
  it("names what is wrong", () => {
    expect(parseCliArgs([])).toEqual({ kind: "error", problem: "--config PATH is required" });
    expect(parseCliArgs(["--config"])).toEqual({ kind: "error", problem: "--config needs a path" });
    expect(parseCliArgs(["--verbose"])).toEqual({
      kind: "error",
      problem: "unknown argument '--verbose'",
    });
  });
});
