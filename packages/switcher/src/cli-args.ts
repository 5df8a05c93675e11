/** `bluegreen-switcher --config PATH` (or `--config=PATH`), `--help`. Pure, for tests. */

export const USAGE = `usage: bluegreen-switcher --config PATH

Runs the switcher agent on the nginx host: owns each served service's active-upstream file,
answers switch.requested with switch.done / switch.failed (nginx test, reload, verification
through nginx), checks the files for drift at start-up. Logs are JSON lines on stdout.

options:
  --config PATH   the switcher's YAML config (see docs/switcher.md, examples/emily/switcher.yaml)
  -h, --help      print this help
`;

export type CliArgs =
  | { kind: "help" }
  | { kind: "run"; configPath: string }
  | { kind: "error"; message: string };

export function parseCliArgs(argv: readonly string[]): CliArgs {
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "-h" || arg === "--help") return { kind: "help" };
    if (arg === "--config") {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith("--"))
        return { kind: "error", message: "--config needs a path" };
      configPath = value;
      i++;
    } else if (arg.startsWith("--config=")) {
      configPath = arg.slice("--config=".length);
    } else {
      return { kind: "error", message: `unknown argument '${arg}'` };
    }
  }
  if (configPath === undefined || configPath === "")
    return { kind: "error", message: "--config PATH is required" };
  return { kind: "run", configPath };
}
