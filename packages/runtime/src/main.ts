import { type AgentRole, isBgError } from "@bluegreen/contracts";
import { type RunAgentOptions, runAgent } from "./agent.ts";
import { parseAgentArgs } from "./cli-args.ts";

export interface AgentMainOptions<R extends AgentRole> {
  /** The command's name, e.g. `bluegreen-switcher`. */
  command: string;
  role: R;
  /** What the agent does, printed under the usage line by `--help`. */
  description: string;
  start: RunAgentOptions<R>["start"];
  /** What `--version` prints: BLUEGREEN_VERSION (the root package.json's). */
  version: string;
  /** Where `--help` points to, e.g. `docs/switcher.md`. */
  docs: string;
}

/**
 * The process entry every agent shares: `<command> --config PATH`, `--help`, exit 2 on a
 * usage error, exit 1 (with the coded error on stderr) when start-up fails; once running,
 * SIGTERM/SIGINT shut it down cleanly (see runAgent).
 */
export async function agentMain<R extends AgentRole>(
  opts: AgentMainOptions<R>,
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  const usage = `usage: ${opts.command} --config PATH

${opts.description}

options:
  --config PATH   the agent's YAML config (role: ${opts.role}); see ${opts.docs}
  --version       print the version of bluegreen
  -h, --help      print this help

Logs are JSON lines on stdout; SIGTERM or SIGINT shut the agent down cleanly.
`;
  const args = parseAgentArgs(argv);
  if (args.kind === "help") {
    process.stdout.write(usage);
    process.exit(0);
  }
  if (args.kind === "version") {
    process.stdout.write(`${opts.command} ${opts.version}\n`);
    process.exit(0);
  }
  if (args.kind === "error") {
    process.stderr.write(`${opts.command}: ${args.problem}\n\n${usage}`);
    process.exit(2);
  }
  try {
    await runAgent({
      role: opts.role,
      configPath: args.configPath,
      start: opts.start,
      version: opts.version,
    });
  } catch (err) {
    // runAgent has logged the coded error as JSON; this line is for a human at a terminal.
    const message = isBgError(err) ? `${err.code}: ${err.message}` : String(err);
    process.stderr.write(`${opts.command}: ${message}\n`);
    process.exit(1);
  }
}
