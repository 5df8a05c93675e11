import { isBgError } from "@bluegreen/contracts";
import { runAgent } from "@bluegreen/runtime";
import { startSwitcher } from "./agent.ts";
import { parseCliArgs, USAGE } from "./cli-args.ts";

const args = parseCliArgs(process.argv.slice(2));
if (args.kind === "help") {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (args.kind === "error") {
  process.stderr.write(`bluegreen-switcher: ${args.message}\n\n${USAGE}`);
  process.exit(2);
}
try {
  await runAgent({
    role: "switcher",
    configPath: args.configPath,
    start: startSwitcher,
    version: "0.1.0",
  });
} catch (err) {
  // runAgent has logged the coded error as JSON; this line is for a human at a terminal.
  const message = isBgError(err) ? `${err.code}: ${err.message}` : String(err);
  process.stderr.write(`bluegreen-switcher: ${message}\n`);
  process.exit(1);
}
