import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { COMMANDS, main } from "./cli.ts";
import type { CliIo } from "./io.ts";

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, tty: false, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

describe("bluegreen", () => {
  it("every command has --help with a usage line and examples, exit 0", async () => {
    for (const command of COMMANDS) {
      const io = capture();
      expect(await main([command.name, "--help"], io)).toBe(0);
      const text = io.stdout.join("\n");
      expect(text).toMatch(new RegExp(`^usage: bluegreen ${command.name}`));
      expect(text).toMatch(/examples?:/);
      expect(text).toContain("--server");
    }
  });

  it("--version prints the version of the root package.json, exit 0", async () => {
    const root = JSON.parse(
      readFileSync(new URL("../../../package.json", import.meta.url), "utf8"),
    );
    const io = capture();
    expect(await main(["--version"], io)).toBe(0);
    expect(io.stdout).toEqual([`bluegreen ${root.version}`]);
  });

  it("global options may come before the command", async () => {
    const io = capture();
    expect(await main(["-s", "nats://127.0.0.1:1", "deploy", "--help"], io)).toBe(0);
  });

  it("an unknown command or a missing argument is a usage error (exit 2), without connecting", async () => {
    const unknown = capture();
    expect(await main(["deplo"], unknown)).toBe(2);
    expect(unknown.stderr.join("\n")).toContain("unknown command 'deplo'");
    const missing = capture();
    expect(await main(["deploy", "emily"], missing)).toBe(2);
    expect(missing.stderr[0]).toBe("bluegreen: missing <version>");
  });

  it("refuses an unsafe version before sending anything (exit 3)", async () => {
    const io = capture();
    expect(await main(["deploy", "emily", "v1;reboot", "-s", "nats://127.0.0.1:1"], io)).toBe(3);
    expect(io.stderr[0]).toMatch(/^BG_ERR_VERSION_UNSAFE: version 'v1;reboot' is refused/);
  });
});
