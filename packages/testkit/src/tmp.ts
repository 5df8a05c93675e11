// Temporary directories under os.tmpdir(), named bluegreen-test-*, removed on dispose (and,
// as a last resort, when the process exits or gets SIGINT/SIGTERM).
// BLUEGREEN_TEST_KEEP_TMP=1 keeps them for post-mortems.

import { mkdtempSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onExitCleanup } from "./process.ts";

export interface TempDir extends AsyncDisposable {
  readonly path: string;
  /** A path inside the directory. */
  file(...parts: string[]): string;
  remove(): Promise<void>;
}

const pending = new Set<string>();
let hookInstalled = false;

const keep = () => process.env.BLUEGREEN_TEST_KEEP_TMP === "1";

function removeAllNow(): void {
  if (keep()) return;
  for (const path of pending) rmSync(path, { recursive: true, force: true, maxRetries: 3 });
  pending.clear();
}

/** `label` becomes part of the name: bluegreen-test-nats-XXXXXX. */
export async function makeTempDir(label = "tmp"): Promise<TempDir> {
  if (!hookInstalled) {
    hookInstalled = true;
    onExitCleanup(removeAllNow);
  }
  const safeLabel = label.replace(/[^A-Za-z0-9_-]/g, "-");
  const path = mkdtempSync(join(tmpdir(), `bluegreen-test-${safeLabel}-`));
  pending.add(path);
  const remove = async () => {
    if (!pending.delete(path) || keep()) return;
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
  };
  return {
    path,
    file: (...parts) => join(path, ...parts),
    remove,
    [Symbol.asyncDispose]: remove,
  };
}
