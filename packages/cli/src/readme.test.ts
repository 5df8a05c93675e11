import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "./args.ts";
import { COMMANDS, main } from "./cli.ts";
import { ExitCode } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";

/** The README's CLI part works as written in a checkout, and lists every exit code. */
const root = new URL("../../../", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");

const capture = (): CliIo & { stdout: string[]; stderr: string[] } => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, tty: false, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
};

/** Every command line of the README's sh blocks that runs the CLI, as argv (after `bluegreen`). */
function cliLines(): string[][] {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  return blocks
    .flatMap((b) => b.split("\n"))
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => /\bbluegreen\b/.test(l) && !l.startsWith("npm "))
    .map((l) => l.split(/\s+/));
}

describe("README", () => {
  it("runs the CLI as a checkout has it (npx bluegreen), each line a valid command", () => {
    const lines = cliLines();
    expect(lines.length).toBeGreaterThan(3);
    for (const [npx, bin, name, ...rest] of lines) {
      expect(`${npx} ${bin}`).toBe("npx bluegreen");
      if (name === "--version") continue;
      const command = COMMANDS.find((c) => c.name === name);
      expect(command, `README: bluegreen ${name}`).toBeDefined();
      if (command === undefined) continue;
      expect(() => parse(rest, command.options)).not.toThrow();
      for (const arg of rest.filter((a) => /\.ya?ml$/.test(a)))
        expect(existsSync(new URL(arg, root)), arg).toBe(true);
    }
  });

  it("its offline commands work as written", async () => {
    const check = capture();
    expect(await main(["config", "check", "examples/emily/service.yaml"], check)).toBe(0);
    const version = capture();
    expect(await main(["--version"], version)).toBe(0);
  });

  it("lists every exit code", () => {
    const rows = [...readme.matchAll(/^\| (\d) \| .+ \|$/gm)].map((m) => Number(m[1]));
    expect(rows.sort()).toEqual(Object.values(ExitCode).sort());
  });
});
