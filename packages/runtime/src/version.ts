import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The version of bluegreen: the root package.json's `version`, the one place it is written.
 * Every agent's `--version` and the CLI's print it. Found by walking up from this file to the
 * package.json named `bluegreen` (so it holds wherever the sources are run from).
 */
export function readBluegreenVersion(
  from: string = dirname(fileURLToPath(import.meta.url)),
): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: unknown; version?: unknown };
        if (pkg.name === "bluegreen" && typeof pkg.version === "string") return pkg.version;
      } catch {
        // not a readable package.json: keep walking up
      }
    }
    if (dirname(dir) === dir) return "0.0.0-unknown";
  }
}

export const BLUEGREEN_VERSION: string = readBluegreenVersion();
