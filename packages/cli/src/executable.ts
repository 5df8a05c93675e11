import { type AgentMainOptions, VERSION } from "@bluegreen/runtime";
import { ExitCode } from "./exit-codes.ts";
import { type CliIo, processIo } from "./io.ts";

// biome-ignore lint/suspicious/noExplicitAny: each entry's role matches its options' role
type AnyAgentMain = AgentMainOptions<any>;

/**
 * The agents `bluegreen agent <role>` runs, by role. Each is imported when asked for (and the
 * CLI too, below), so `bluegreen --version` or one agent evaluates only what it needs: in the
 * one-file bundle that is most of the start-up time.
 */
const AGENTS: Readonly<Record<string, () => Promise<AnyAgentMain>>> = {
  coordinator: async () => (await import("@bluegreen/coordinator")).COORDINATOR_MAIN,
  switcher: async () => (await import("@bluegreen/switcher")).SWITCHER_MAIN,
  "node-agent": async () => (await import("@bluegreen/node-agent")).NODE_AGENT_MAIN,
  monitor: async () => (await import("@bluegreen/monitor")).MONITOR_MAIN,
  notifier: async () => (await import("@bluegreen/notifier")).NOTIFIER_MAIN,
};

export const AGENT_USAGE = `usage: bluegreen agent <role> --config FILE

Runs one of bluegreen's agents in this process (what the systemd units run).

roles:
  coordinator   the deployment state machine (docs/coordinator.md)
  switcher      nginx's active upstream, on the nginx host (docs/switcher.md)
  node-agent    deploy steps, readiness and smoke checks (docs/node-agent.md)
  monitor       the SLO watch after a switch (docs/monitor.md)
  notifier      webhooks, chats and e-mail from the event stream (docs/notifier.md)

\`bluegreen agent <role> --help\` describes one.`;

/**
 * The single executable is multi-call: `bluegreen --version`, `bluegreen agent <role> --config
 * FILE` runs an agent (resolves once it runs; the process then lives until SIGTERM), anything
 * else is the CLI (resolves with its exit code). Undefined: the process keeps running.
 */
export async function runExecutable(
  argv: readonly string[],
  io: CliIo = processIo,
): Promise<ExitCode | undefined> {
  const [first, role, ...rest] = argv;
  if (first === "--version" || first === "version") {
    io.out(`bluegreen ${VERSION}`);
    return ExitCode.ok;
  }
  if (first !== "agent") return (await import("./cli.ts")).main(argv, io);
  if (role === "--help" || role === "-h") {
    io.out(AGENT_USAGE);
    return ExitCode.ok;
  }
  const load = role === undefined ? undefined : AGENTS[role];
  if (load === undefined) {
    io.err(`bluegreen agent: ${role === undefined ? "no role given" : `unknown role '${role}'`}`);
    io.err(`\n${AGENT_USAGE}`);
    return ExitCode.usage;
  }
  if (rest[0] === "--version") {
    io.out(`bluegreen ${VERSION} (${role})`);
    return ExitCode.ok;
  }
  const [agent, { agentMain }] = await Promise.all([load(), import("@bluegreen/runtime")]);
  await agentMain({ ...agent, command: `bluegreen agent ${agent.role}` }, rest);
  return undefined;
}
