// The page's script and styles, bundled by esbuild from src/web (uPlot included: nothing comes
// from a CDN). `npm run build -w @bluegreen/dashboard` writes them to dist/; a server that finds
// dist/ missing or older than the sources builds them at start (a fraction of a second) and
// leaves them in dist/ for the next start.

import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const WEB_DIR = fileURLToPath(new URL("./web/", import.meta.url));
export const DIST_DIR = fileURLToPath(new URL("../dist/", import.meta.url));
const STAMP = "sources.sha256";

export interface Asset {
  type: string;
  body: Buffer;
}

/** `app.js` and `app.css`. */
export type Assets = Map<string, Asset>;

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/** A hash of every source the bundle is made of (the web sources and uPlot's version). */
function sourcesHash(): string {
  const hash = createHash("sha256");
  for (const name of readdirSync(WEB_DIR).sort()) {
    if (name.endsWith(".test.ts")) continue;
    hash.update(name).update(readFileSync(join(WEB_DIR, name)));
  }
  const uplot = fileURLToPath(import.meta.resolve("uplot/package.json"));
  hash.update(JSON.parse(readFileSync(uplot, "utf8")).version as string);
  return hash.digest("hex");
}

/** Bundles the page's assets (in memory). */
export async function buildAssets(): Promise<Assets> {
  const result = await build({
    entryPoints: [join(WEB_DIR, "main.ts")],
    bundle: true,
    minify: true,
    format: "esm",
    target: ["chrome110", "firefox110", "safari16"],
    outdir: "/assets",
    write: false,
    logLevel: "silent",
    legalComments: "none",
  });
  const assets: Assets = new Map();
  for (const file of result.outputFiles) {
    const name = file.path.split("/").pop() ?? "";
    const ext = name.split(".").pop() ?? "";
    assets.set(`app.${ext}`, {
      type: TYPES[ext] ?? "application/octet-stream",
      body: Buffer.from(file.contents),
    });
  }
  return assets;
}

/** Writes the assets and the sources' stamp to dist/ (the package's build). */
export async function writeAssets(assets?: Assets): Promise<void> {
  const built = assets ?? (await buildAssets());
  mkdirSync(DIST_DIR, { recursive: true });
  for (const [name, asset] of built) writeFileSync(join(DIST_DIR, name), asset.body);
  writeFileSync(join(DIST_DIR, STAMP), `${sourcesHash()}\n`);
}

/** The assets of dist/ when they were built from the current sources, else built now. */
export async function loadAssets(): Promise<Assets> {
  const want = sourcesHash();
  try {
    if (readFileSync(join(DIST_DIR, STAMP), "utf8").trim() === want) {
      const assets: Assets = new Map();
      for (const ext of ["js", "css"])
        assets.set(`app.${ext}`, {
          type: TYPES[ext] as string,
          body: readFileSync(join(DIST_DIR, `app.${ext}`)),
        });
      return assets;
    }
  } catch {
    // not built yet
  }
  const assets = await buildAssets();
  try {
    await writeAssets(assets);
  } catch {
    // a read-only install: serve from memory
  }
  return assets;
}
