import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readIfExists, restore, writeAtomic } from "./atomic-file.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "bg-switcher-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("atomic file", () => {
  it("writes through a temp file and leaves nothing else behind", async () => {
    const path = join(dir, "emily-active.conf");
    await writeAtomic(path, "one\n");
    await writeAtomic(path, "two\n");
    expect(await readFile(path, "utf8")).toBe("two\n");
    expect(await readdir(dir)).toEqual(["emily-active.conf"]);
  });

  it("keeps the mode of the file it replaces", async () => {
    const path = join(dir, "a.conf");
    await writeFile(path, "x", { mode: 0o640 });
    await writeAtomic(path, "y");
    expect((await stat(path)).mode & 0o777).toBe(0o640);
  });

  it("reads a missing file as undefined, and restores to 'no file'", async () => {
    const path = join(dir, "a.conf");
    expect(await readIfExists(path)).toBeUndefined();
    await writeAtomic(path, "new");
    await restore(path, undefined);
    expect(await readIfExists(path)).toBeUndefined();
    await restore(path, "old");
    expect(await readIfExists(path)).toBe("old");
  });

  it("fails without touching the target when the directory is missing", async () => {
    await expect(writeAtomic(join(dir, "nope", "a.conf"), "x")).rejects.toThrow(/ENOENT/);
  });
});
