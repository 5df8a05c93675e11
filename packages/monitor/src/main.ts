import { isBgError } from "@bluegreen/contracts";
import { runAgent } from "@bluegreen/runtime";
import { parseCliArgs, USAGE } from "./cli-args.ts";
import { startMonitor } from "./monitor.ts";

/** `bluegreen-monitor --config PATH`: the monitor agent's process entry. */
const VERSION = "0.1.0";

const args = parseCliArgs(process.argv.slice(2));
if (args.kind === "help") {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (args.kind === "error") {
  process.stderr.write(`bluegreen-monitor: ${args.problem}\n\n${USAGE}\n`);
  process.exit(2);
}

try {
  await runAgent({
    role: "monitor",
    configPath: args.configPath,
    start: startMonitor,
    version: VERSION,
  });
} catch (err) {
  const message = isBgError(err) ? `${err.code}: ${err.message}` : String(err);
  process.stderr.write(`bluegreen-monitor: ${message}\n`);
  process.exit(1);
}
