import { describe, expect, it } from "vitest";
import { parseAgentArgs } from "./cli-args.ts";

describe("parseAgentArgs", () => {
  it("reads --config in both spellings", () => {
    expect(parseAgentArgs(["--config", "/etc/bg/monitor.yaml"])).toEqual({
      kind: "run",
      configPath: "/etc/bg/monitor.yaml",
    });
    expect(parseAgentArgs(["--config=m.yaml"])).toEqual({ kind: "run", configPath: "m.yaml" });
  });
  it("asks for the version", () => {
    expect(parseAgentArgs(["--version"])).toEqual({ kind: "version" });
  });
  it("asks for help", () => {
    expect(parseAgentArgs(["--config", "x", "-h"])).toEqual({ kind: "help" });
  });
  it("names what is wrong", () => {
    expect(parseAgentArgs([])).toEqual({ kind: "error", problem: "--config PATH is required" });
    expect(parseAgentArgs(["--config"])).toEqual({
      kind: "error",
      problem: "--config needs a path",
    });
    expect(parseAgentArgs(["--verbose"])).toEqual({
      kind: "error",
      problem: "unknown argument '--verbose'",
    });
  });
});
