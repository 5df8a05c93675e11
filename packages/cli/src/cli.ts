import { BgError, ERROR_CATALOGUE } from "@bluegreen/contracts";
import { BLUEGREEN_VERSION, type Bus } from "@bluegreen/runtime";
import type { NatsConnection } from "nats";
import { GLOBAL_HELP, GLOBAL_OPTIONS, parse } from "./args.ts";
import type { CliCommand } from "./command.ts";
import { abortCommand } from "./commands/abort.ts";
import { agentsCommand } from "./commands/agents.ts";
import { applyCommand } from "./commands/apply.ts";
import { auditCommand } from "./commands/audit.ts";
import { completionCommand } from "./commands/completion.ts";
import { configCommand } from "./commands/config.ts";
import { dashboardCommand } from "./commands/dashboard.ts";
import { deployCommand } from "./commands/deploy.ts";
import { freezeCommand, unfreezeCommand } from "./commands/freeze.ts";
import { historyCommand } from "./commands/history.ts";
import { natsConfigCommand } from "./commands/nats-config.ts";
import { notificationsCommand } from "./commands/notifications.ts";
import { promoteCommand } from "./commands/promote.ts";
import { retryCommand } from "./commands/retry.ts";
import { rollbackCommand } from "./commands/rollback.ts";
import { statusCommand } from "./commands/status.ts";
import { switchCommand } from "./commands/switch.ts";
import { tailCommand } from "./commands/tail.ts";
import { waitCommand } from "./commands/wait-cmd.ts";
import { type CliConnectOptions, closeCli, connectCli, connectSettings } from "./connection.ts";
import { ExitCode } from "./exit-codes.ts";
import { type CliIo, processIo } from "./io.ts";
import { cliBus } from "./publish.ts";

export const COMMANDS: readonly CliCommand[] = [
  deployCommand,
  statusCommand,
  tailCommand,
  historyCommand,
  promoteCommand,
  abortCommand,
  rollbackCommand,
  applyCommand,
  agentsCommand,
  notificationsCommand,
  configCommand,
  switchCommand,
  waitCommand,
  retryCommand,
  freezeCommand,
  unfreezeCommand,
  dashboardCommand,
  natsConfigCommand,
  auditCommand,
  completionCommand(() => COMMANDS),
];

export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usage: bluegreen <command> [options]

Blue/green deployments behind nginx, driven over NATS. Every command takes --help;
\`bluegreen --version\` prints the version.

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

${GLOBAL_HELP}

examples:
  bluegreen apply -f examples/emily/service.yaml
  bluegreen deploy emily v1.1 --wait
  bluegreen status emily --watch
  bluegreen tail --service emily --since 1h
  source <(bluegreen completion bash)

exit codes: 0 ok · 1 error · 2 usage · 3 rejected · 4 failed · 5 rolled back · 6 timed out ·
7 aborted · 8 audit verify found a problem (docs/cli.md)`;
}

/** What an error exits with: usage errors 2, refused input 3, anything else 1. */
function report(io: CliIo, err: unknown, command: CliCommand | undefined): ExitCode {
  if (err instanceof BgError) {
    if (err.code === "BG_ERR_CLI_USAGE") {
      io.err(`bluegreen: ${err.message}`);
      if (command !== undefined) io.err(`\n${command.usage}`);
      return ExitCode.usage;
    }
    io.err(`${err.code}: ${err.message}`);
    io.err(`fix: ${ERROR_CATALOGUE[err.code].fix}`);
    const refused = err.code.startsWith("BG_ERR_CONFIG_") || err.code === "BG_ERR_VERSION_UNSAFE";
    return refused ? ExitCode.rejected : ExitCode.error;
  }
  io.err(`bluegreen: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return ExitCode.error;
}

/** Global options may come before the command: `bluegreen -s nats://x:4222 status`. */
function splitCommand(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  const takesValue = new Set(
    Object.entries(GLOBAL_OPTIONS).flatMap(([long, spec]) =>
      spec.type === "string" ? [`--${long}`, ...(spec.short ? [`-${spec.short}`] : [])] : [],
    ),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("-"))
      return { name: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
    if (arg === "--help" || arg === "-h" || arg === "--version")
      return { name: arg, rest: argv.slice(i + 1) };
    if (takesValue.has(arg)) i++;
  }
  return { name: undefined, rest: [...argv] };
}

export async function main(
  argv: readonly string[],
  io: CliIo = processIo,
  opts: { signal?: AbortSignal } = {},
): Promise<ExitCode> {
  const { name, rest } = splitCommand(argv);
  if (name === "--version") {
    io.out(`bluegreen ${BLUEGREEN_VERSION}`);
    return ExitCode.ok;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    io.out(topic === undefined ? mainUsage() : `${topic.usage}\n\n${GLOBAL_HELP}`);
    return ExitCode.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.err(`bluegreen: unknown command '${name}'\n\n${mainUsage()}`);
    return ExitCode.usage;
  }
  let nc: NatsConnection | undefined;
  let bus: Bus | undefined;
  try {
    const { values, positionals } = parse(rest, command.options);
    if (values.help === true) {
      io.out(`${command.usage}\n\n${GLOBAL_HELP}`);
      return ExitCode.ok;
    }
    const nats = async (opts?: CliConnectOptions) => {
      nc ??= await connectCli(connectSettings(values), opts);
      return nc;
    };
    return await command.run({
      values,
      positionals,
      io,
      nats,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      bus: async (opts) => {
        bus ??= cliBus(await nats(opts));
        return bus;
      },
    });
  } catch (err) {
    return report(io, err, command);
  } finally {
    if (nc !== undefined) await closeCli(nc);
  }
}
