import { describe, expect, it } from "vitest";
import { parseCliArgs } from "./cli-args.ts";

describe("parseCliArgs", () => {
  it("takes --config PATH and --config=PATH", () => {
    expect(parseCliArgs(["--config", "/etc/bluegreen/switcher.yaml"])).toEqual({
      kind: "run",
      configPath: "/etc/bluegreen/switcher.yaml",
    });
    expect(parseCliArgs(["--config=a.yaml"])).toEqual({ kind: "run", configPath: "a.yaml" });
  });

  it("answers help, and names what is wrong otherwise", () => {
    expect(parseCliArgs(["--help"]).kind).toBe("help");
    expect(parseCliArgs(["-h", "--config"]).kind).toBe("help");
    expect(parseCliArgs([])).toEqual({ kind: "error", message: "--config PATH is required" });
    expect(parseCliArgs(["--config"])).toEqual({ kind: "error", message: "--config needs a path" });
    expect(parseCliArgs(["--verbose"])).toEqual({
      kind: "error",
      message: "unknown argument '--verbose'",
    });
  });
});
