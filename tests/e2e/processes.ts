// Starting bluegreen's own processes for the suites and the demo: an agent through its bin
// (`bluegreen-coordinator --config file`), and the `bluegreen` CLI as CI runs it.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { type ManagedProcess, REPO_ROOT, runCommand, spawnProcess } from "../support/index.ts";

export const BINS = {
  coordinator: join(REPO_ROOT, "packages/coordinator/bin/bluegreen-coordinator.js"),
  switcher: join(REPO_ROOT, "packages/switcher/bin/bluegreen-switcher.js"),
  nodeAgent: join(REPO_ROOT, "packages/node-agent/bin/bluegreen-node-agent.js"),
  monitor: join(REPO_ROOT, "packages/monitor/bin/bluegreen-monitor.js"),
  cli: join(REPO_ROOT, "packages/cli/bin/bluegreen.js"),
} as const;
export type AgentBin = Exclude<keyof typeof BINS, "cli">;

export interface AgentProcess {
  readonly name: string;
  readonly configPath: string;
  readonly process: ManagedProcess;
  /** SIGTERM and wait (a clean shutdown). */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
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
 * Writes `config` as YAML to `<dir>/<name>.yaml` and starts the agent's bin with it; resolves
 * once the agent logs that it runs (lifecycle → running).
 */
export async function startAgent(
  bin: AgentBin,
  name: string,
  dir: string,
  config: Record<string, unknown>,
  opts: { startTimeoutMs?: number; env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[] } = {},
): Promise<AgentProcess> {
  const configPath = join(dir, `${name}.yaml`);
  writeFileSync(configPath, stringify(config));
  const proc = await spawnProcess({
    name,
    command: process.execPath,
    args: [
      ...shebangNodeFlags(BINS[bin]),
      ...(opts.nodeArgs ?? []),
      BINS[bin],
      "--config",
      configPath,
    ],
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
  });
  await proc.waitForLine(/"to":"running"/, {
    what: `${name} to run`,
    timeoutMs: opts.startTimeoutMs ?? 20_000,
  });
  return {
    name,
    configPath,
    process: proc,
    stop: async () => {
      await proc.stop({ signal: "SIGTERM", timeoutMs: 10_000 });
    },
    kill: async () => {
      await proc.stop({ signal: "SIGKILL" });
    },
  };
}

/** Starts the agent again from its config file (after a crash), as a new process. */
export async function respawnAgent(
  bin: AgentBin,
  agent: AgentProcess,
  opts: { startTimeoutMs?: number } = {},
): Promise<AgentProcess> {
  const proc = await spawnProcess({
    name: agent.name,
    command: process.execPath,
    args: [BINS[bin], "--config", agent.configPath],
    cwd: REPO_ROOT,
  });
  await proc.waitForLine(/"to":"running"/, {
    what: `${agent.name} to run again`,
    timeoutMs: opts.startTimeoutMs ?? 20_000,
  });
  return {
    name: agent.name,
    configPath: agent.configPath,
    process: proc,
    stop: async () => {
      await proc.stop({ signal: "SIGTERM", timeoutMs: 10_000 });
    },
    kill: async () => {
      await proc.stop({ signal: "SIGKILL" });
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout's lines, without the empty last one. */
  lines: string[];
}

/** Runs `bluegreen <args>` against `natsUrl`, as CI would. */
export async function bluegreen(
  natsUrl: string,
  args: readonly string[],
  opts: { timeoutMs?: number } = {},
): Promise<CliResult> {
  const result = await runCommand(process.execPath, [BINS.cli, ...args, "--server", natsUrl], {
    cwd: REPO_ROOT,
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
  return {
    code: result.code,
    stdout: result.stdout,
    stderr: result.stderr,
    lines: result.stdout.split("\n").filter((l) => l.length > 0),
  };
}

/** A coordinator's config: short leases so failover tests stay fast. */
export function coordinatorConfig(
  natsUrl: string,
  agentId: string,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    role: "coordinator",
    agent_id: agentId,
    nats: { servers: [natsUrl] },
    lease_ttl: "3s",
    heartbeat_interval: "1s",
    heartbeat_max_age: "10s",
    log: { level: "info" },
    ...over,
  };
}
