import { parseArgs } from "node:util";
import { startNodeAgent } from "./run.ts";

const USAGE = `usage: bluegreen-node-agent --config PATH

Runs the bluegreen node agent: consumes deploy.started for the services and colour it serves,
runs the definition's deploy steps on each of its nodes (locally, or over SSH), waits for
readiness, runs the smoke checks, and reports every step as events.

  --config PATH   the agent's YAML config (role: node-agent); see docs/node-agent.md
  -h, --help      this help`;

async function main(argv: string[]): Promise<number> {
  let values: { config?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`bluegreen-node-agent: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.config === undefined) {
    process.stderr.write(`bluegreen-node-agent: --config is required\n${USAGE}\n`);
    return 2;
  }
  try {
    await startNodeAgent({ configPath: values.config });
    return -1; // running: the shutdown handler exits the process
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`bluegreen-node-agent: ${message}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
