// The agents as real child processes (their bin, `--config FILE`), as an operator runs them,
// with every stdout/stderr line kept: the flood suite gets the second core, the TLS suite can
// watch an agent that never gets a connection, and the secrets suite reads what it printed.

import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { AgentRole } from "@bluegreen/contracts";
import { type ManagedProcess, REPO_ROOT, spawnProcess, type TempDir } from "@bluegreen/testkit";

const BINS: Record<AgentRole, string> = {
  switcher: "switcher/bin/bluegreen-switcher.js",
  "node-agent": "node-agent/bin/bluegreen-node-agent.js",
  monitor: "monitor/bin/bluegreen-monitor.js",
  coordinator: "coordinator/bin/bluegreen-coordinator.js",
};

export const binOf = (role: AgentRole) =>
  fileURLToPath(new URL(`../../packages/${BINS[role]}`, import.meta.url));

export interface AgentProcess {
  readonly role: AgentRole;
  readonly agentId: string;
  readonly process: ManagedProcess;
  /** Every line the agent printed (stdout and stderr), in order. */
  readonly lines: string[];
  /** `<role>/<agent_id>`: the `rejectedBy` of its rejections. */
  readonly rejectedBy: string;
  /** The agent's HTTP endpoint (`/metrics`, `/healthz`), once it is listening. */
  readonly url: string;
  healthz(): Promise<number>;
  stop(): Promise<void>;
}

export interface LaunchOptions {
  readonly role: AgentRole;
  readonly agentId: string;
  readonly dir: TempDir;
  /** The `nats` section (servers, credentials, tls). */
  readonly nats: Record<string, unknown>;
  /** Role-specific settings (services, serves, nginx, ssh, prometheus_url…). */
  readonly settings: Record<string, unknown>;
  readonly logLevel?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Default true: wait until the agent says it is running. */
  readonly waitRunning?: boolean;
  readonly timeoutMs?: number;
}

/** Writes the agent's config file and starts its bin; resolves once it is running. */
export async function launchAgent(o: LaunchOptions): Promise<AgentProcess> {
  const configPath = o.dir.file(`${o.agentId}.json`);
  await writeFile(
    configPath,
    JSON.stringify({
      role: o.role,
      agent_id: o.agentId,
      nats: o.nats,
      http: { host: "127.0.0.1", port: 0 },
      heartbeat_interval: "1s",
      log: { level: o.logLevel ?? "info" },
      ...o.settings,
    }),
  );
  const proc = await spawnProcess({
    name: `${o.role} ${o.agentId}`,
    command: process.execPath,
    args: [binOf(o.role), "--config", configPath],
    cwd: REPO_ROOT,
    ...(o.env === undefined ? {} : { env: o.env }),
  });
  const lines: string[] = [];
  let url = "";
  proc.onLine((line) => {
    lines.push(line);
    if (url === "" && line.includes('"msg":"http listening"'))
      url = (JSON.parse(line) as { url: string }).url;
  });
  const agent: AgentProcess = {
    role: o.role,
    agentId: o.agentId,
    process: proc,
    lines,
    rejectedBy: `${o.role}/${o.agentId}`,
    get url() {
      return url;
    },
    healthz: async () => (await fetch(`${url}/healthz`)).status,
    stop: async () => {
      await proc.stop({ timeoutMs: 10_000 });
    },
  };
  if (o.waitRunning === false) return agent;
  try {
    await proc.waitForLine((l) => l.includes('"to":"running"'), {
      what: `${o.role} ${o.agentId} to be running`,
      timeoutMs: o.timeoutMs ?? 30_000,
    });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return agent;
}

/**
 * A queue of publishes worked by `inFlight` workers; items may be pushed while it runs.
 * `drain()` resolves once everything pushed is published, and rejects on the first failure.
 */
export class PublishQueue<T> {
  private readonly items: { item: T; done: (seq: number) => void }[] = [];
  private readonly workers: Promise<void>[] = [];
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly publish: (item: T) => Promise<number>,
    private readonly inFlight: number,
  ) {}

  push(item: T, done: (seq: number) => void): void {
    this.items.push({ item, done });
    if (this.workers.length < this.inFlight) {
      const worker = this.work();
      worker.catch(() => undefined); // reported by drain()
      this.workers.push(worker);
    }
    this.notify();
  }

  async drain(): Promise<void> {
    this.closed = true;
    this.notify();
    await Promise.all(this.workers);
  }

  private notify(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }

  private async work(): Promise<void> {
    for (;;) {
      const next = this.items.shift();
      if (next !== undefined) {
        next.done(await this.publish(next.item));
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}
