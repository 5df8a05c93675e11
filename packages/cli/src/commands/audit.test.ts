// `bluegreen audit` without NATS: usage errors, keygen, and verify on an export file.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../cli.ts";
import type { CliIo } from "../io.ts";

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, tty: false, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

const OFFLINE = ["-s", "nats://127.0.0.1:1"];
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "bluegreen-audit-cli-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("bluegreen audit", () => {
  it("a missing or unknown subcommand, or verify without --public-key, is a usage error (exit 2)", async () => {
    for (const args of [["audit"], ["audit", "sign"], ["audit", "verify"], ["audit", "keygen"]]) {
      const io = capture();
      expect(await main([...OFFLINE, ...args], io), args.join(" ")).toBe(2);
    }
  });

  it("keygen writes a 0600 private key and never overwrites it; verify refuses a key that is not ed25519", async () => {
    const dir = tempDir();
    const io = capture();
    expect(await main([...OFFLINE, "audit", "keygen", "--out", dir], io)).toBe(0);
    expect(io.stdout.join("\n")).toMatch(/key id: +[0-9a-f]{16}/);
    expect(statSync(join(dir, "audit-signing.key")).mode & 0o777).toBe(0o600);
    const again = capture();
    expect(await main([...OFFLINE, "audit", "keygen", "--out", dir], again)).toBe(2);
    expect(again.stderr.join("\n")).toMatch(/never overwrites/);
    // Either file present: nothing written, no new private key beside an old public one.
    for (const [present, absent] of [
      ["audit-signing.pub", "audit-signing.key"],
      ["audit-signing.key", "audit-signing.pub"],
    ] as const) {
      const half = tempDir();
      writeFileSync(join(half, present), "old\n");
      const refused = capture();
      expect(await main([...OFFLINE, "audit", "keygen", "--out", half], refused)).toBe(2);
      expect(refused.stderr.join("\n")).toMatch(/never overwrites/);
      expect(existsSync(join(half, absent)), absent).toBe(false);
      expect(readFileSync(join(half, present), "utf8")).toBe("old\n");
    }
    writeFileSync(join(dir, "not-a-key.pem"), "hello\n");
    const bad = capture();
    expect(
      await main(
        [
          ...OFFLINE,
          "audit",
          "verify",
          "--public-key",
          join(dir, "not-a-key.pem"),
          "--export",
          "x",
        ],
        bad,
      ),
    ).toBe(1);
    expect(bad.stderr.join("\n")).toMatch(/BG_ERR_AUDIT_KEY_INVALID/);
  });

  it("verify on an export with no checkpoint fails (exit 8); a file that is not an export is an error", async () => {
    const dir = tempDir();
    await main([...OFFLINE, "audit", "keygen", "--out", dir], capture());
    const pub = join(dir, "audit-signing.pub");
    const file = join(dir, "trail.jsonl");
    writeFileSync(
      file,
      `${JSON.stringify({ format: "bluegreen-audit-export", version: 1, stream: "BLUEGREEN", exportedAt: "2026-12-01T00:00:00Z", streamFirstSeq: 1, streamLastSeq: 1 })}\n${JSON.stringify({ seq: 1, subject: "bluegreen.emily.freeze.set", msgId: "a", payload: "{}" })}\n`,
    );
    const io = capture();
    expect(
      await main([...OFFLINE, "audit", "verify", "--public-key", pub, "--export", file], io),
    ).toBe(8);
    expect(io.stdout.join("\n")).toMatch(/problem: seq 1 no_checkpoint/);
    const json = capture();
    await main(
      [...OFFLINE, "audit", "verify", "--public-key", pub, "--export", file, "--json"],
      json,
    );
    expect(JSON.parse(json.stdout.join(""))).toMatchObject({
      ok: false,
      problems: [{ kind: "no_checkpoint" }],
    });
    // --public-key is repeatable (the keys before and after a rotation).
    const second = tempDir();
    await main([...OFFLINE, "audit", "keygen", "--out", second], capture());
    const twoKeys = capture();
    const args = ["--public-key", pub, "--public-key", join(second, "audit-signing.pub")];
    await main([...OFFLINE, "audit", "verify", ...args, "--export", file, "--json"], twoKeys);
    const report = JSON.parse(twoKeys.stdout.join("")) as { keyId: string; keyIds: string[] };
    expect(report.keyIds).toHaveLength(2);
    expect(report.keyId).toBe(report.keyIds[0]);
    const text = capture();
    await main([...OFFLINE, "audit", "verify", ...args, "--export", file], text);
    expect(text.stdout.join("\n")).toContain(`signed by key ${report.keyIds.join(", ")}`);
    writeFileSync(file, readFileSync(pub));
    const notExport = capture();
    expect(
      await main([...OFFLINE, "audit", "verify", "--public-key", pub, "--export", file], notExport),
    ).toBe(1);
    expect(notExport.stderr.join("\n")).toMatch(/BG_ERR_AUDIT_EXPORT_INVALID/);
  });
});
