import "./agent-v8-flags.ts";
import { runExecutable } from "./executable.ts";

/**
 * The `bluegreen` executable: the CLI, `bluegreen agent <role>`, `bluegreen --version`. No
 * top-level await: this is the entry esbuild bundles to CommonJS for the single executable.
 */
void runExecutable(process.argv.slice(2)).then((code) => {
  if (code !== undefined) process.exit(code);
});
