import { readFile } from "node:fs/promises";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { BgError, parseDuration } from "@bluegreen/contracts";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;
export type Values = Record<string, string | boolean | string[] | undefined>;

/** Options every command takes: where NATS is and how to log in. */
export const GLOBAL_OPTIONS: OptionSpec = {
  server: { type: "string", short: "s", multiple: true },
  user: { type: "string" },
  password: { type: "string" },
  token: { type: "string" },
  creds: { type: "string" },
  nkey: { type: "string" },
  "tls-ca": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  help: { type: "boolean", short: "h" },
};

/** A command's own options, by kind: `options({ boolean: ["wait"], string: ["timeout"] })`. */
export function options(kinds: {
  boolean?: readonly string[];
  string?: readonly string[];
}): OptionSpec {
  const spec: OptionSpec = {};
  for (const name of kinds.boolean ?? []) spec[name] = { type: "boolean" };
  for (const name of kinds.string ?? []) spec[name] = { type: "string" };
  return spec;
}

export const GLOBAL_HELP = `connection (every command):
  -s, --server <url>   NATS server, repeatable or comma-separated (default: $NATS_URL, then
                       nats://127.0.0.1:4222)
  --user <name>        user ($NATS_USER); --password <pw> ($NATS_PASSWORD)
  --token <token>      token ($NATS_TOKEN)
  --creds <file>       a .creds file ($NATS_CREDS); --nkey <seed file>
  --tls-ca <file>, --tls-cert <file>, --tls-key <file>`;

export function usageError(reason: string): BgError {
  return new BgError("BG_ERR_CLI_USAGE", { reason });
}

export function parse(
  args: readonly string[],
  options: OptionSpec,
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (err) {
    throw usageError(err instanceof Error ? err.message : String(err));
  }
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

export function flag(values: Values, name: string): boolean {
  return values[name] === true;
}

/** `--timeout 30m` (a duration) in ms. */
export function durationOption(values: Values, name: string, fallbackMs: number): number {
  const raw = str(values, name);
  if (raw === undefined) return fallbackMs;
  const ms = parseDuration(raw);
  if (ms === undefined) throw usageError(`--${name}: expected a duration such as 30s, 10m, 1h`);
  return ms;
}

/** `--since 1h` (that long ago) or an ISO time. */
export function sinceOption(values: Values, now = Date.now()): Date | undefined {
  const raw = str(values, "since");
  if (raw === undefined) return undefined;
  const ms = parseDuration(raw);
  if (ms !== undefined) return new Date(now - ms);
  const at = Date.parse(raw);
  if (Number.isNaN(at))
    throw usageError(`--since: expected a duration (1h, 30m) or an ISO time, got '${raw}'`);
  return new Date(at);
}

export function positional(positionals: readonly string[], i: number, what: string): string {
  const v = positionals[i];
  if (v === undefined || v === "") throw usageError(`missing <${what}>`);
  return v;
}

/** The text of a file named on the command line; one that cannot be read is a usage error. */
export async function readFileArg(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw usageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
