/**
 * bluegreen's version, the root package.json's: what `--version` prints and every heartbeat
 * carries. Written by `npm run gen` (scripts/release/version.ts) from the root package.json,
 * the one place a version is set; a test checks that they and every package's agree. A
 * constant, not a JSON import nor a run-time read of package.json, so the sources (tsx), the
 * built JS and the single executable (where no package.json lies beside the code) read it alike.
 */
export const VERSION = "0.1.0";

/** The same constant under the name the agents and the CLI use. */
export const BLUEGREEN_VERSION: string = VERSION;
