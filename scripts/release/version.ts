// bluegreen's version is set in one place, the root package.json. `npm run gen` copies it to
// every workspace package.json and to packages/runtime/src/version.ts (a constant, so that the
// sources, the built JS and the single executable all read it); version.test.ts checks them.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, rootVersion } from "./paths.ts";

export const VERSION_FILE = join(REPO, "packages/runtime/src/version.ts");

/** Every workspace's package.json (packages/*, examples/sample-app, tests). */
export function workspaceManifests(): string[] {
  const root = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
    workspaces: string[];
  };
  return root.workspaces.map((w) => join(REPO, w, "package.json"));
}

/** The version constant in version.ts. */
export function versionInSource(text = readFileSync(VERSION_FILE, "utf8")): string | undefined {
  return /^export const VERSION = "([^"]+)";$/m.exec(text)?.[1];
}

/** Writes the root version everywhere it is copied; returns the files it changed. */
export function syncVersions(version = rootVersion()): string[] {
  const changed: string[] = [];
  for (const path of workspaceManifests()) {
    const text = readFileSync(path, "utf8");
    const next = text.replace(/^ {2}"version": "[^"]*",$/m, `  "version": "${version}",`);
    if (next !== text) {
      writeFileSync(path, next);
      changed.push(path);
    }
  }
  const source = readFileSync(VERSION_FILE, "utf8");
  const next = source.replace(
    /^export const VERSION = "[^"]*";$/m,
    `export const VERSION = "${version}";`,
  );
  if (next !== source) {
    writeFileSync(VERSION_FILE, next);
    changed.push(VERSION_FILE);
  }
  return changed;
}
