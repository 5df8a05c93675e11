/** @bluegreen/cli: the `bluegreen` command that CI and operators run. */

export { COMMANDS, main } from "./cli.ts";
export type { CliCommand, CliContext } from "./command.ts";
export { ExitCode, exitCodeOf } from "./exit-codes.ts";
export type { CliIo } from "./io.ts";
export { formatTimeline, summarize } from "./timeline.ts";
