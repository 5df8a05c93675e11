// The page's script and styles, bundled by esbuild from src/web (uPlot included: nothing comes
// from a CDN). `npm run build -w @bluegreen/dashboard` writes them to dist/assets/; a server
// run from a checkout that finds them missing or older than the sources builds them at start (a
// fraction of a second) and leaves them there for the next start. An install without the
// sources (the npm package) serves dist/assets/ as built; the single executable carries them
// inside (scripts/release/bundle.ts defines __BLUEGREEN_DASHBOARD_ASSETS__), so it needs
// neither esbuild nor a file beside it.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The assets as the one-file bundle embeds them: name → content type and base64 body. */
declare const __BLUEGREEN_DASHBOARD_ASSETS__: string | undefined;

/** The page's sources (a checkout only; `../src/web` from src/ and from dist/ alike). */
const webDir = (): string => fileURLToPath(new URL("../src/web/", import.meta.url));
/** Where the built assets are (`dist/assets/`, from src/ and from dist/ alike). */
export const distDir = (): string => fileURLToPath(new URL("../dist/assets/", import.meta.url));
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
  for (const name of readdirSync(webDir()).sort()) {
    if (name.endsWith(".test.ts")) continue;
    hash.update(name).update(readFileSync(join(webDir(), name)));
  }
  const uplot = fileURLToPath(import.meta.resolve("uplot/package.json"));
  hash.update(JSON.parse(readFileSync(uplot, "utf8")).version as string);
  return hash.digest("hex");
}

/** Bundles the page's assets (in memory). */
export async function buildAssets(): Promise<Assets> {
  // Imported when needed: the single executable never builds (nor carries esbuild).
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [join(webDir(), "main.ts")],
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
  const dir = distDir();
  mkdirSync(dir, { recursive: true });
  for (const [name, asset] of built) writeFileSync(join(dir, name), asset.body);
  writeFileSync(join(dir, STAMP), `${sourcesHash()}\n`);
}

/** The built assets of dist/assets/ (no check against the sources). */
function readBuilt(): Assets {
  const assets: Assets = new Map();
  for (const ext of ["js", "css"])
    assets.set(`app.${ext}`, {
      type: TYPES[ext] as string,
      body: readFileSync(join(distDir(), `app.${ext}`)),
    });
  return assets;
}

/**
 * The assets: those embedded in the single executable; else those of dist/assets/ when they
 * were built from the current sources (or when there are no sources: an installed package),
 * else built now.
 */
export async function loadAssets(): Promise<Assets> {
  if (typeof __BLUEGREEN_DASHBOARD_ASSETS__ === "string") {
    const embedded = JSON.parse(__BLUEGREEN_DASHBOARD_ASSETS__) as Record<
      string,
      { type: string; base64: string }
    >;
    return new Map(
      Object.entries(embedded).map(([name, a]) => [
        name,
        { type: a.type, body: Buffer.from(a.base64, "base64") },
      ]),
    );
  }
  if (!existsSync(webDir())) return readBuilt();
  const want = sourcesHash();
  try {
    if (readFileSync(join(distDir(), STAMP), "utf8").trim() === want) return readBuilt();
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
