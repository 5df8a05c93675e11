// Where the release build reads and writes: the checkout, dist/ (out of git), the version.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const DIST = join(REPO, "dist");
export const RELEASE_DIR = join(DIST, "release");

/** bluegreen's version: the root package.json's, the one place it is set. */
export function rootVersion(): string {
  return (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string })
    .version;
}
