import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * The upstream file on disk. A write never leaves a half-written file where nginx reads:
 * the content goes to a temp file in the same directory (same file system), is fsynced, and
 * renamed over the target; then the directory is fsynced so the rename survives a crash.
 * The temp name ends in `.tmp`, so an `include …/*.conf` never picks it up.
 */

/** The file's content, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function modeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).mode & 0o7777;
  } catch {
    return 0o644;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeAtomic(path: string, content: string): Promise<void> {
  await (await replaceFile(path, content)).dirSynced;
}

/**
 * The write without waiting for the directory fsync: resolves once the new content is in
 * place (readers see it), with the fsync of the directory as `dirSynced`.
 */
export async function replaceFile(
  path: string,
  content: string,
): Promise<{ dirSynced: Promise<void> }> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", await modeOf(path));
  try {
    try {
      await handle.writeFile(content, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  return { dirSynced: fsyncDir(dir) };
}

/** Puts back what was there before a write: the old content, or no file at all. */
export async function restore(path: string, previous: string | undefined): Promise<void> {
  if (previous !== undefined) {
    await writeAtomic(path, previous);
    return;
  }
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
  await fsyncDir(dirname(path));
}
