import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { renderDocs } from "./docs/render.ts";
import { syncVersions } from "./release/version.ts";

/**
 * `npm run gen`: writes docs/events.md, docs/errors.md and docs/schemas/ from the contracts,
 * and copies the root package.json's version to every package (scripts/release/version.ts).
 */
for (const path of syncVersions()) console.log(`version: wrote ${relative(process.cwd(), path)}`);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const files = renderDocs();
const schemaDir = join(root, "docs/schemas");
const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
mkdirSync(schemaDir, { recursive: true });
for (const stale of walk(schemaDir)) {
  if (!files.has(relative(root, stale))) rmSync(stale);
}
for (const [path, content] of files) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}
console.log(`wrote ${files.size} files`);
