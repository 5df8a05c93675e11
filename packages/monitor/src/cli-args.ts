/** `bluegreen-monitor --config PATH`: the command line, read without side effects. */

export const USAGE = `usage: bluegreen-monitor --config PATH

Watches the SLOs of a service after each promotion (switch.done) and publishes
monitor.started, slo.warning, slo.breached, slo.inconclusive, monitor.passed.

options:
  --config PATH   the monitor's YAML config (role: monitor, agent_id, nats, services, …)
  -h, --help      print this help

Logs are JSON lines on stdout; SIGTERM or SIGINT shut down cleanly.
See docs/monitor.md.`;

export type CliArgs =
  | { kind: "help" }
  | { kind: "run"; configPath: string }
  | { kind: "error"; problem: string };

export function parseCliArgs(argv: readonly string[]): CliArgs {
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "-h" || arg === "--help") return { kind: "help" };
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
