// Starting bluegreen's own processes for the suites and the demo: an agent through its bin
// (`bluegreen-coordinator --config file`), and the `bluegreen` CLI as CI runs it.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentRole } from "@bluegreen/contracts";
import { stringify } from "yaml";
import { type AgentBin, BINS, REPO_ROOT, SOURCE_NODE_FLAGS, SOURCES } from "./paths.ts";
import { type ManagedProcess, runCommand, spawnProcess } from "./process.ts";

export interface AgentProcess {
  readonly name: string;
  readonly configPath: string;
  readonly process: ManagedProcess;
  /** Every line the agent printed (stdout and stderr), in order. */
  readonly lines: readonly string[];
  /** The agent's HTTP endpoint (`/metrics`, `/healthz`) once it listens; "" before. */
  readonly url: string;
  /** SIGTERM and wait (a clean shutdown). */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

export interface StartAgentOptions {
  /** How long to wait for the ready line (default 20 s). */
  readonly startTimeoutMs?: number;
  /** Added to this process' environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** Node flags after the bin's own shebang flags. */
  readonly nodeArgs?: readonly string[];
  /**
   * The line that says the agent is ready (default: lifecycle → running, `"to":"running"`);
   * false: resolve as soon as it is spawned.
   */
  readonly readyLine?: RegExp | false;
  /**
   * Run the agent from this single executable (`<executable> agent <role> --config FILE`,
   * `npm run release`) instead of from the checkout's sources; `nodeArgs` do not apply.
   */
  readonly executable?: string;
}

/** Each bin's agent role (`bluegreen agent <role>`). */
const ROLES: Readonly<Record<AgentBin, string>> = {
  coordinator: "coordinator",
  switcher: "switcher",
  nodeAgent: "node-agent",
  monitor: "monitor",
  notifier: "notifier",
};

/**
 * How to run a bin from the sources: node with the bin's shebang flags, tsx and the source
 * condition, then the TypeScript entry (what the bin runs once built).
 */
export function sourceArgs(bin: keyof typeof BINS, nodeArgs: readonly string[] = []): string[] {
  return [...shebangNodeFlags(BINS[bin]), ...SOURCE_NODE_FLAGS, ...nodeArgs, SOURCES[bin]];
}

/**
 * The node flags a bin's shebang line gives (`#!/usr/bin/env -S node --flag …`), so that an
 * agent started here with `node <bin>` runs as it does from its unit.
 */
export function shebangNodeFlags(binPath: string): string[] {
  const first = readFileSync(binPath, "utf8").split("\n", 1)[0] ?? "";
  const match = /^#!\/usr\/bin\/env -S node((?:\s+--[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
  return (
    match?.[1]
      ?.trim()
      .split(/\s+/)
      .filter((f) => f !== "") ?? []
  );
}

/**
 * Starts the agent from its sources (or from `opts.executable`) with `--config configPath`;
 * resolves once it is ready.
 */
async function runAgent(
  bin: AgentBin,
  name: string,
  configPath: string,
  opts: StartAgentOptions,
): Promise<AgentProcess> {
  const proc = await spawnProcess({
    name,
    command: opts.executable ?? process.execPath,
    args: [
      ...(opts.executable === undefined ? sourceArgs(bin, opts.nodeArgs) : ["agent", ROLES[bin]]),
      "--config",
      configPath,
    ],
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
  });
  const lines: string[] = [];
  let url = "";
  proc.onLine((line) => {
    lines.push(line);
    if (url === "" && line.includes('"msg":"http listening"')) {
      url = (JSON.parse(line) as { url: string }).url;
    }
  });
  const ready = opts.readyLine ?? /"to":"running"/;
  if (ready !== false) {
    try {
      await proc.waitForLine(ready, {
        what: `${name} to be ready (${ready})`,
        timeoutMs: opts.startTimeoutMs ?? 20_000,
      });
    } catch (error) {
      await proc.stop();
      throw error;
    }
  }
  return {
    name,
    configPath,
    process: proc,
    lines,
    get url() {
      return url;
    },
    stop: async () => {
      await proc.stop({ signal: "SIGTERM", timeoutMs: 10_000 });
    },
    kill: async () => {
      await proc.stop({ signal: "SIGKILL" });
    },
  };
}

/**
 * Writes `config` as YAML to `<dir>/<name>.yaml` and starts the agent's bin with it; resolves
 * once the agent logs that it runs (lifecycle → running), or its `readyLine`.
 */
export function startAgent(
  bin: AgentBin,
  name: string,
  dir: string,
  config: Record<string, unknown>,
  opts: StartAgentOptions = {},
): Promise<AgentProcess> {
  const configPath = join(dir, `${name}.yaml`);
  writeFileSync(configPath, stringify(config));
  return runAgent(bin, name, configPath, opts);
}

/** Starts the agent again from its config file (after a crash), as a new process. */
export function respawnAgent(
  bin: AgentBin,
  agent: AgentProcess,
  opts: StartAgentOptions = {},
): Promise<AgentProcess> {
  return runAgent(bin, agent.name, agent.configPath, opts);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout's lines, without the empty last one. */
  lines: string[];
}

/**
 * Runs `bluegreen <args>` against `natsUrl`, as CI would: from the sources, or from the single
 * executable given as `executable` (`env` added to this process's).
 */
export async function bluegreen(
  natsUrl: string,
  args: readonly string[],
  opts: {
    timeoutMs?: number;
    executable?: string | undefined;
    env?: Record<string, string>;
    onStdout?: (stdout: string) => void;
  } = {},
): Promise<CliResult> {
  const argv = [...args, "--server", natsUrl];
  const result = await runCommand(
    opts.executable ?? process.execPath,
    opts.executable === undefined ? [...sourceArgs("cli"), ...argv] : argv,
    {
      cwd: REPO_ROOT,
      timeoutMs: opts.timeoutMs ?? 60_000,
      ...(opts.env === undefined ? {} : { env: { ...process.env, ...opts.env } }),
      ...(opts.onStdout === undefined ? {} : { onStdout: opts.onStdout }),
    },
  );
  return {
    code: result.code,
    stdout: result.stdout,
    stderr: result.stderr,
    lines: result.stdout.split("\n").filter((l) => l.length > 0),
  };
}

/**
 * An agent's config: its role and id, the NATS servers, an HTTP endpoint on a free port, a 1 s
 * heartbeat and info logs; `over` adds or replaces keys (services, serves, nginx, ssh…).
 */
export function agentConfig(
  role: AgentRole,
  agentId: string,
  nats: string | readonly string[],
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    role,
    agent_id: agentId,
    nats: { servers: typeof nats === "string" ? [nats] : [...nats] },
    http: { host: "127.0.0.1", port: 0 },
    heartbeat_interval: "1s",
    log: { level: "info" },
    ...over,
  };
}

/** A coordinator's config: short leases so failover tests stay fast. */
export function coordinatorConfig(
  natsUrl: string,
  agentId: string,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return agentConfig("coordinator", agentId, natsUrl, {
    lease_ttl: "3s",
    heartbeat_max_age: "10s",
    ...over,
  });
}
