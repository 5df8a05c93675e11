import {
  BgError,
  compileAgentConfig,
  compileServiceDefinition,
  configIssues,
  ERROR_CATALOGUE,
  formatConfigIssue,
} from "@bluegreen/contracts";
import { parse as parseYaml } from "yaml";
import { positional, readFileArg, usageError } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";

/** Prints a config error as one problem per line (path, message, line) and its fix. */
export function printConfigError(io: CliIo, err: BgError): ExitCode {
  const issues = configIssues(err);
  if (issues.length === 0) io.err(`${err.code}: ${err.message}`);
  else {
    io.err(`${err.code}: ${issues.length} problem(s):`);
    for (const issue of issues) io.err(`  ${formatConfigIssue(issue)}`);
  }
  io.err(`fix: ${ERROR_CATALOGUE[err.code].fix}`);
  return ExitCode.rejected;
}

export const configCommand: CliCommand = {
  name: "config",
  summary: "config check <file>: validate a service definition or an agent config",
  usage: `usage: bluegreen config check <file>

Validates a file without touching NATS: a service definition, or an agent's own config
(a file with a top-level \`role:\`). Prints every problem with its path and line; exits 0
when valid, 3 when not.

examples:
  bluegreen config check examples/emily/service.yaml
  bluegreen config check /etc/bluegreen/coordinator.yaml`,
  options: {},
  async run({ positionals, io }) {
    const sub = positional(positionals, 0, "check");
    if (sub !== "check")
      throw usageError(`unknown subcommand 'config ${sub}' (try: config check <file>)`);
    const file = positional(positionals, 1, "file");
    const text = await readFileArg(file);
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch {
      raw = undefined; // the compile below reports the YAML error with its line
    }
    const isAgent = typeof raw === "object" && raw !== null && "role" in raw;
    try {
      if (isAgent) {
        const config = compileAgentConfig(text, { source: file });
        io.out(`ok: ${file} is a valid ${config.role} config (agent ${config.agent_id})`);
      } else {
        const def = compileServiceDefinition(text, { source: file });
        io.out(`ok: ${file} is a valid definition of service '${def.service}'`);
      }
      return ExitCode.ok;
    } catch (err) {
      if (err instanceof BgError) return printConfigError(io, err);
      throw err;
    }
  },
};
