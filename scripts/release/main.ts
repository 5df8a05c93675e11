// `npm run release`: the single executable and what ships it, into dist/release/ (out of git):
//   bluegreen_<version>_amd64.deb, bluegreen-<version>-linux-x64.tar.gz, and the npm tarballs
//   of @bluegreen/cli (the bundle) and @bluegreen/contracts (built JS and declarations).
// `npm run build` first (tsc for every package, the bundle); see docs/install.md.

import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { BUNDLE } from "./bundle.ts";
import { buildDeb, buildTarball } from "./deb.ts";
import { RELEASE_DIR, REPO, rootVersion } from "./paths.ts";
import { buildExecutable } from "./sea.ts";

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export async function release(log: (line: string) => void = console.log): Promise<void> {
  const version = rootVersion();
  execFileSync("npm", ["run", "--silent", "build"], { cwd: REPO, stdio: "inherit" });
  const exe = await buildExecutable(BUNDLE);
  log(`executable ${exe.path} (${mb(exe.bytes)})`);
  const deb = buildDeb(exe.path, version);
  log(`deb        ${deb.path} (${mb(deb.bytes)})`);
  const tar = buildTarball(exe.path, version);
  log(`tarball    ${tar.path} (${mb(tar.bytes)})`);
  mkdirSync(RELEASE_DIR, { recursive: true });
  for (const pkg of ["cli", "contracts"]) {
    const out = execFileSync(
      "npm",
      ["pack", "--silent", "--pack-destination", RELEASE_DIR, join(REPO, "packages", pkg)],
      { cwd: REPO, encoding: "utf8" },
    );
    log(`npm        ${join(RELEASE_DIR, out.trim().split("\n").at(-1) ?? "")}`);
  }
}

if (process.argv[1]?.endsWith("release/main.ts")) await release();
