// The one-file bundle of the `bluegreen` executable (the CLI and the four agents): esbuild from
// the sources to a CommonJS file with every dependency inside, which plain node runs
// (packages/cli/bin/bluegreen.js, the npm package) and which the single executable embeds.

import { statSync } from "node:fs";
import { join } from "node:path";
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

export async function bundle(): Promise<{ path: string; bytes: number }> {
  const result = await build({
    entryPoints: [join(REPO, "packages/cli/src/main.ts")],
    outfile: BUNDLE,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    conditions: ["bluegreen-source"],
    plugins: [withoutNativeAddons],
    legalComments: "none",
    logLevel: "warning",
    minifySyntax: true,
    minifyWhitespace: true,
  });
  if (result.errors.length > 0) throw new Error(`esbuild: ${result.errors.length} error(s)`);
  return { path: BUNDLE, bytes: statSync(BUNDLE).size };
}
