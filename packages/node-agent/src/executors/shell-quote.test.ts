import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quoteForShell, remoteCommandLine } from "./shell-quote.ts";

/** Runs a command line through a real POSIX shell and returns what the program saw. */
function argvSeenBy(line: string): string[] {
  const out = execFileSync("/bin/sh", ["-c", line], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

/** The shell's own printf prints each argument NUL-terminated (fast: no process per run). */
const printArgv = ["printf", "%s\\0"];

describe("quoteForShell", () => {
  it("wraps in single quotes and escapes embedded quotes", () => {
    expect(quoteForShell("v1.1")).toBe("'v1.1'");
    expect(quoteForShell("it's")).toBe("'it'\\''s'");
    expect(quoteForShell("")).toBe("''");
  });

  it("refuses NUL bytes", () => {
    expect(() => quoteForShell("a\0b")).toThrow(/NUL/);
  });

  it("delivers any argument unchanged through a real shell (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: "binary", maxLength: 20 }).filter((s) => !s.includes("\0")),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        (args) => {
          const line = [...printArgv, ...args].map(quoteForShell).join(" ");
          // Lone surrogates cannot survive UTF-8 either way; compare what UTF-8 can carry.
          const expected = args.map((a) => Buffer.from(a, "utf8").toString("utf8"));
          expect(argvSeenBy(line)).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("remoteCommandLine", () => {
  it("changes directory, exports the variables and execs the argv", () => {
    const line = remoteCommandLine({
      workdir: "/opt/emily sovereign",
      argv: ["git", "checkout", "v1.1"],
      env: { BLUEGREEN_VERSION: "v1.1", BLUEGREEN_SERVICE: "emily" },
    });
    expect(line).toBe(
      "cd '/opt/emily sovereign' && export BLUEGREEN_VERSION='v1.1' BLUEGREEN_SERVICE='emily' && exec 'git' 'checkout' 'v1.1' </dev/null",
    );
  });

  it("keeps hostile values inert in a real shell", () => {
    const line = remoteCommandLine({
      workdir: "/",
      argv: ["sh", "-c", 'printf "%s\\0" "$X" "$1"', "sh", "$(touch /tmp/pwned); `id` 'x"],
      env: { X: "a'; echo hacked; '" },
    });
    expect(argvSeenBy(line)).toEqual(["a'; echo hacked; '", "$(touch /tmp/pwned); `id` 'x"]);
  });

  it("refuses an invalid environment variable name", () => {
    expect(() => remoteCommandLine({ workdir: "/", argv: ["true"], env: { "A;B": "x" } })).toThrow(
      /environment variable/,
    );
  });
});
