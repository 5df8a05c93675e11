import type { Bus } from "@bluegreen/runtime";
import type { NatsConnection } from "nats";
import type { OptionSpec, Values } from "./args.ts";
import type { CliConnectOptions } from "./connection.ts";
import type { ExitCode } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";

export interface CliContext {
  values: Values;
  positionals: string[];
  io: CliIo;
  /**
   * Connects on first use (commands that need no NATS never connect); the first call's
   * options hold. `follow: true` for a command that reads the stream until an outcome.
   */
  nats(opts?: CliConnectOptions): Promise<NatsConnection>;
  /** The bus over that same connection: what the CLI publishes goes through it. */
  bus(opts?: CliConnectOptions): Promise<Bus>;
  /** Ends a command that runs until stopped (`status --watch`); Ctrl-C does it otherwise. */
  signal?: AbortSignal;
}

/** One `bluegreen` subcommand, in its own file. */
export interface CliCommand {
  name: string;
  summary: string;
  /** Full help: usage line, what it does, options, examples. */
  usage: string;
  options: OptionSpec;
  run(ctx: CliContext): Promise<ExitCode>;
}
