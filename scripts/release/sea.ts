// The single executable (Node's single executable applications): the bundle → a preparation
// blob (`node --experimental-sea-config`) → injected with postject into a copy of this node.
// The result runs with no Node installed; `bluegreen agent <role>` makes it every agent too.

import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inject } from "postject";
import { DIST } from "./paths.ts";

/** The fuse Node looks for to know a blob was injected (Node's documentation, "Single executable applications"). */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
export const EXECUTABLE = join(DIST, "bluegreen");

export async function buildExecutable(
  bundlePath: string,
): Promise<{ path: string; bytes: number }> {
  const work = join(DIST, "sea");
  mkdirSync(work, { recursive: true });
  const blob = join(work, "bluegreen.blob");
  const config = join(work, "sea-config.json");
  writeFileSync(
    config,
    JSON.stringify({
      main: bundlePath,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
    }),
  );
  execFileSync(process.execPath, ["--experimental-sea-config", config], { stdio: "pipe" });
  copyFileSync(process.execPath, EXECUTABLE);
  chmodSync(EXECUTABLE, 0o755);
  // Debian's node carries its debug information (13 MB); the executable needs none of it.
  execFileSync("strip", ["--strip-all", EXECUTABLE]);
  await inject(EXECUTABLE, "NODE_SEA_BLOB", readFileSync(blob), { sentinelFuse: SEA_FUSE });
  return { path: EXECUTABLE, bytes: statSync(EXECUTABLE).size };
}
