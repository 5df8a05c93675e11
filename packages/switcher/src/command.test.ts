import { describe, expect, it } from "vitest";
import { clipOutput, runCommand } from "./command.ts";

describe("runCommand", () => {
  it("runs an argv without a shell and keeps stderr", async () => {
    const ok = await runCommand([process.execPath, "-e", "console.error('syntax is ok')"], 5_000);
    expect(ok).toMatchObject({ ok: true, code: 0, output: "syntax is ok" });
    const bad = await runCommand(
      [process.execPath, "-e", "console.error('[emerg] bad'); process.exit(1)"],
      5_000,
    );
    expect(bad).toMatchObject({ ok: false, code: 1, output: "[emerg] bad" });
  });

  it("does not interpret shell syntax", async () => {
    const r = await runCommand(
      [process.execPath, "-e", "console.log(process.argv[1])", "$(id); echo hi"],
      5_000,
    );
    expect(r.output).toBe("$(id); echo hi");
  });

  it("says when the program is missing or too slow", async () => {
    expect((await runCommand(["/nonexistent/nginx", "-t"], 5_000)).output).toBe(
      "cannot run /nonexistent/nginx: ENOENT",
    );
    const slow = await runCommand([process.execPath, "-e", "setTimeout(() => {}, 10000)"], 200);
    expect(slow.ok).toBe(false);
    expect(slow.output).toContain("did not finish within 200 ms");
  });

  it("keeps the end of a long output", () => {
    expect(clipOutput(`${"a".repeat(10)}END`, 5)).toBe("…aEND");
  });
});
