// The one-file bundle of the `bluegreen` executable (the CLI, its dashboard and the five
// agents): esbuild from the sources to a CommonJS file with every dependency inside, which
// plain node runs (packages/cli/bin/bluegreen.js, the npm package) and which the single
// executable embeds. The dashboard's page assets are built first and embedded as a constant.

import { statSync } from "node:fs";
import { join } from "node:path";
import { buildAssets } from "@bluegreen/dashboard";
import { build, type Plugin } from "esbuild";
import { REPO } from "./paths.ts";

export const BUNDLE = join(REPO, "packages/cli/dist/bluegreen.cjs");

/**
 * ssh2's optional native parts (`cpu-features`, its `sshcrypto.node`) become modules that throw
 * when loaded: ssh2 catches that and uses its JavaScript fallbacks, and the single executable
 * never calls require() for a file on disk (which it cannot do, and warns about).
 */
const withoutNativeAddons: Plugin = {
  name: "without-native-addons",
  setup(b) {
    b.onResolve({ filter: /^cpu-features$|\.node$/ }, (args) => ({
      path: args.path,
      namespace: "no-native-addon",
    }));
    b.onLoad({ filter: /.*/, namespace: "no-native-addon" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path}: native add-on left out of the bundle`)});`,
      loader: "js",
    }));
  },
};

/**
 * esbuild itself stays out: only the dashboard imports it, to build its assets from the
 * sources, which the bundle never does (it carries them built).
 */
const withoutEsbuild: Plugin = {
  name: "without-esbuild",
  setup(b) {
    b.onResolve({ filter: /^esbuild$/ }, (args) => ({ path: args.path, namespace: "no-esbuild" }));
    b.onLoad({ filter: /.*/, namespace: "no-esbuild" }, () => ({
      contents: `throw new Error("esbuild: left out of the bundle (the dashboard's assets are embedded)");`,
      loader: "js",
    }));
  },
};

/**
 * zod's translated error messages (~40 languages, ~260 KB of the bundle) are left out but
 * English, which zod uses unless `z.config(z.locales.<lang>())` picks another, and bluegreen
 * never does: the bundle's source is in every agent's heap and in the pages it reads.
 */
const zodEnglishOnly: Plugin = {
  name: "zod-english-only",
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: `export { default as en } from "./en.js";`,
      loader: "js",
    }));
  },
};

/** The dashboard's assets as `loadAssets` reads them from __BLUEGREEN_DASHBOARD_ASSETS__. */
async function embeddedDashboardAssets(): Promise<string> {
  const assets = await buildAssets();
  const out: Record<string, { type: string; base64: string }> = {};
  for (const [name, asset] of assets)
    out[name] = { type: asset.type, base64: asset.body.toString("base64") };
  return JSON.stringify(JSON.stringify(out));
}

export async function bundle(): Promise<{ path: string; bytes: number }> {
  const result = await build({
    entryPoints: [join(REPO, "packages/cli/src/main.ts")],
    outfile: BUNDLE,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    conditions: ["bluegreen-source"],
    plugins: [withoutNativeAddons, withoutEsbuild, zodEnglishOnly],
    define: { __BLUEGREEN_DASHBOARD_ASSETS__: await embeddedDashboardAssets() },
    legalComments: "none",
    logLevel: "warning",
    // Only the dashboard's asset paths use import.meta, and the bundle never reads them (it
    // carries the assets): their emptiness is expected.
    logOverride: { "empty-import-meta": "silent" },
    minifySyntax: true,
    minifyWhitespace: true,
    // Shorter local names: a smaller source string in every process's heap and fewer of the
    // executable's pages read at start (~1 MB less RSS per agent); functions and classes keep
    // their `.name` (errors, stack traces).
    minifyIdentifiers: true,
    keepNames: true,
  });
  if (result.errors.length > 0) throw new Error(`esbuild: ${result.errors.length} error(s)`);
  return { path: BUNDLE, bytes: statSync(BUNDLE).size };
}
