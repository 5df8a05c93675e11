import { describe, expect, it } from "vitest";
import { parseCtlArgs } from "./ctl-args.ts";

describe("parseCtlArgs", () => {
  it("parses start with defaults", () => {
    expect(
      parseCtlArgs(["start", "--dir", "/srv/app", "--port", "8000", "--color", "green"]),
    ).toEqual({
      kind: "start",
      dir: "/srv/app",
      port: 8000,
      color: "green",
      host: "127.0.0.1",
      timeoutMs: 10_000,
    });
  });

  it("parses stop, set-version and status", () => {
    expect(parseCtlArgs(["stop", "--dir", "d"])).toEqual({
      kind: "stop",
      dir: "d",
      timeoutMs: 5_000,
    });
    expect(parseCtlArgs(["set-version", "--dir", "d", "v1.1"])).toEqual({
      kind: "set-version",
      dir: "d",
      version: "v1.1",
    });
    expect(parseCtlArgs(["status", "--dir", "d"])).toEqual({ kind: "status", dir: "d" });
  });

  it.each([
    [["start", "--port", "1", "--color", "blue"], "start: --dir is required"],
    [["start", "--dir", "d", "--color", "blue"], "start: --port is required"],
    [
      ["start", "--dir", "d", "--port", "0", "--color", "blue"],
      'start: --port: expected 1-65535, got "0"',
    ],
    [["start", "--dir", "d", "--port", "80"], "start: --color is required"],
    [["stop", "--dir", "d", "--port", "80"], "stop: --port is not an option here"],
    [["stop", "--dir", "d", "extra"], 'stop: unexpected argument "extra"'],
    [["set-version", "--dir", "d"], "set-version: expected exactly one VERSION"],
    [["restart", "--dir", "d"], 'unknown command "restart"'],
  ])("rejects %j", (argv, message) => {
    expect(parseCtlArgs(argv)).toEqual({ kind: "usage-error", message });
  });

  it("rejects a version that is not safe", () => {
    for (const version of ["../../etc", "1..2", "-x", "a b", ""]) {
      const result = parseCtlArgs(["set-version", "--dir", "d", version]);
      expect(result.kind).toBe("usage-error");
    }
  });

  it("answers help", () => {
    expect(parseCtlArgs([])).toEqual({ kind: "help" });
    expect(parseCtlArgs(["--help"])).toEqual({ kind: "help" });
  });
});
