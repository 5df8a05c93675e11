/**
 * `bluegreen-<role> --config PATH` (or `--config=PATH`), `--help`, `--version`: read without
 * side effects.
 */
export type AgentCliArgs =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "run"; configPath: string }
  | { kind: "error"; problem: string };

export function parseAgentArgs(argv: readonly string[]): AgentCliArgs {
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "-h" || arg === "--help") return { kind: "help" };
    if (arg === "--version") return { kind: "version" };
    if (arg === "--config") {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith("-"))
        return { kind: "error", problem: "--config needs a path" };
      configPath = value;
      i++;
    } else if (arg.startsWith("--config=")) {
      configPath = arg.slice("--config=".length);
    } else {
      return { kind: "error", problem: `unknown argument '${arg}'` };
    }
  }
  if (configPath === undefined || configPath === "")
    return { kind: "error", problem: "--config PATH is required" };
  return { kind: "run", configPath };
}
