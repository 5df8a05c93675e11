import { describe, expect, it } from "vitest";
import { type AppOptions, DEFAULT_VERSION, parseOptions } from "./options.ts";

function options(argv: string[], env: Record<string, string> = {}): AppOptions {
  const result = parseOptions(argv, env);
  if (result.kind !== "options") throw new Error(`expected options, got ${JSON.stringify(result)}`);
  return result.options;
}

function problems(argv: string[], env: Record<string, string> = {}): readonly string[] {
  const result = parseOptions(argv, env);
  if (result.kind !== "error") throw new Error(`expected problems, got ${JSON.stringify(result)}`);
  return result.problems;
}

describe("parseOptions", () => {
  it("has defaults for everything", () => {
    expect(options([])).toEqual({
      host: "127.0.0.1",
      port: 8000,
      version: DEFAULT_VERSION,
      versionFile: undefined,
      color: "blue",
      faults: { errorRate: 0, latencyMs: 0, healthFail: false },
      slowStartMs: 0,
    });
  });

  it("reads every flag", () => {
    const argv = [
      "--host=0.0.0.0",
      "--port",
      "0",
      "--version",
      "v1.1",
      "--color",
      "green",
      "--error-rate",
      "0.25",
      "--latency-ms",
      "40",
      "--health-fail",
      "--slow-start-ms",
      "1500",
    ];
    expect(options(argv)).toEqual({
      host: "0.0.0.0",
      port: 0,
      version: "v1.1",
      versionFile: undefined,
      color: "green",
      faults: { errorRate: 0.25, latencyMs: 40, healthFail: true },
      slowStartMs: 1500,
    });
  });

  it("reads SAMPLE_APP_* variables, and flags win over them", () => {
    const env = {
      SAMPLE_APP_PORT: "9001",
      SAMPLE_APP_COLOR: "green",
      SAMPLE_APP_ERROR_RATE: "1",
      SAMPLE_APP_HEALTH_FAIL: "true",
      SAMPLE_APP_VERSION: "2.0.0",
    };
    const fromEnv = options([], env);
    expect(fromEnv.port).toBe(9001);
    expect(fromEnv.color).toBe("green");
    expect(fromEnv.faults).toEqual({ errorRate: 1, latencyMs: 0, healthFail: true });
    expect(fromEnv.version).toBe("2.0.0");
    const flagged = options(["--port", "9002", "--version-file", "/srv/VERSION"], env);
    expect(flagged.port).toBe(9002);
    expect(flagged.version).toBeUndefined();
    expect(flagged.versionFile).toBe("/srv/VERSION");
  });

  it("takes the version from a file when only a file is named", () => {
    const parsed = options([], { SAMPLE_APP_VERSION_FILE: "/srv/VERSION" });
    expect(parsed.version).toBeUndefined();
    expect(parsed.versionFile).toBe("/srv/VERSION");
  });

  it("reports every bad value at once", () => {
    expect(
      problems(["--port", "70000", "--error-rate", "2", "--latency-ms=-5", "--color", "r e d"]),
    ).toEqual([
      '--port (SAMPLE_APP_PORT): expected an integer from 0 to 65535, got "70000"',
      '--latency-ms (SAMPLE_APP_LATENCY_MS): expected an integer from 0 to 600000, got "-5"',
      '--error-rate (SAMPLE_APP_ERROR_RATE): expected a number from 0 to 1, got "2"',
      '--color (SAMPLE_APP_COLOR): expected up to 32 of [A-Za-z0-9_-], got "r e d"',
    ]);
  });

  it("rejects both --version and --version-file, bad versions and unknown flags", () => {
    expect(problems(["--version", "1", "--version-file", "f"])).toEqual([
      "--version and --version-file: give one, not both",
    ]);
    expect(problems(["--version", "../1"])[0]).toMatch(/invalid version/);
    expect(problems(["--verbose"])[0]).toMatch(/verbose/);
    expect(problems([], { SAMPLE_APP_HEALTH_FAIL: "maybe" })[0]).toMatch(/SAMPLE_APP_HEALTH_FAIL/);
  });

  it("answers --help", () => {
    expect(parseOptions(["--help"], {})).toEqual({ kind: "help" });
  });
});
