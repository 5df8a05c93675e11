// The agents as real child processes (testkit's `startAgent`: their bin, `--config FILE`), as
// an operator runs them, with every stdout/stderr line kept: the flood suite gets the second
// core, the TLS suite can watch an agent that never gets a connection, and the secrets suite
// reads what it printed.

import type { AgentRole } from "@bluegreen/contracts";
import {
  type AgentBin,
  agentConfig,
  type AgentProcess as StartedAgent,
  startAgent,
  type TempDir,
} from "@bluegreen/testkit";

const BIN_OF: Record<AgentRole, AgentBin> = {
  switcher: "switcher",
  "node-agent": "nodeAgent",
  monitor: "monitor",
  coordinator: "coordinator",
  notifier: "notifier",
};

export interface AgentProcess extends StartedAgent {
  readonly role: AgentRole;
  readonly agentId: string;
  /** `<role>/<agent_id>`: the `rejectedBy` of its rejections. */
  readonly rejectedBy: string;
  healthz(): Promise<number>;
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
  const agent = await startAgent(
    BIN_OF[o.role],
    o.agentId,
    o.dir.path,
    agentConfig(o.role, o.agentId, [], {
      nats: o.nats,
      log: { level: o.logLevel ?? "info" },
      ...o.settings,
    }),
    {
      startTimeoutMs: o.timeoutMs ?? 30_000,
      ...(o.env === undefined ? {} : { env: o.env }),
      ...(o.waitRunning === false ? { readyLine: false as const } : {}),
    },
  );
  return {
    name: agent.name,
    configPath: agent.configPath,
    process: agent.process,
    lines: agent.lines,
    get url() {
      return agent.url;
    },
    stop: agent.stop,
    kill: agent.kill,
    role: o.role,
    agentId: o.agentId,
    rejectedBy: `${o.role}/${o.agentId}`,
    healthz: async () => (await fetch(`${agent.url}/healthz`)).status,
  };
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
