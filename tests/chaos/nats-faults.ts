// Shared by the NATS fault suites (nats-restart, nats-cluster): a watch on the service's events
// over a connection of the test's own that reconnects at once, a fault fired the moment a
// given event goes by (one per phase of a deployment), and the final-state checks every fault
// must end in.

import { type BgEvent, Buckets, parseEvent, STREAM_NAME } from "@bluegreen/contracts";
import { retryTransient } from "@bluegreen/runtime";
import {
  type ManagedProcess,
  REPO_ROOT,
  sourceArgs,
  spawnProcess,
  waitFor,
} from "@bluegreen/testkit";
import { connect, type NatsConnection } from "nats";
import { expect } from "vitest";
import type { E2eStack } from "../e2e/stack.ts";

export const TERMINAL_EVENTS = [
  "deploy.succeeded",
  "deploy.failed",
  "deploy.rolled_back",
  "deploy.aborted",
  "deploy.rejected",
] as const;
export type TerminalEvent = (typeof TERMINAL_EVENTS)[number];

/** The events a deployment that succeeds stores exactly once. */
export const SUCCESS_ONCE = [
  "deploy.requested",
  "deploy.started",
  "deploy.ready",
  "smoke.passed",
  "switch.requested",
  "switch.done",
  "monitor.started",
  "monitor.passed",
  "deploy.succeeded",
] as const;

export const names = (events: readonly BgEvent[]) =>
  events.map((e) => e.type.replace("bluegreen.", ""));
export const deploymentIdOf = (stdout: string) =>
  /deploying \S+ \S+ as (\S+)/.exec(stdout)?.[1] ?? "";

/**
 * The service's events as they cross the server, on a connection that retries every 100 ms
 * forever (the agents wait about a second between attempts), so it is back before they are.
 */
export class EventWatch {
  private readonly listeners = new Set<(event: BgEvent) => void>();

  private constructor(readonly nc: NatsConnection) {}

  static async open(servers: readonly string[], service: string): Promise<EventWatch> {
    const nc = await connect({
      servers: [...servers],
      name: "chaos-watch",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      reconnectJitter: 0,
      pingInterval: 1_000,
    });
    const watch = new EventWatch(nc);
    nc.subscribe(`bluegreen.${service}.>`, {
      callback: (_err, msg) => {
        const parsed = parseEvent(msg.data);
        if (!parsed.ok) return;
        for (const listener of watch.listeners) listener(parsed.event);
      },
    });
    await nc.flush();
    return watch;
  }

  on(listener: (event: BgEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The name of the server this connection talks to now (its `server_name`). */
  serverName(): string | undefined {
    return this.nc.info?.server_name;
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}

export interface FaultPoint {
  /** The event (without `bluegreen.`) whose publication puts the deployment in the phase. */
  type: string;
  match?: (e: BgEvent) => boolean;
  /** What the phase is called in reports ("deploying", "smoke", …). */
  phase: string;
}

export interface FaultRecord {
  phase: string;
  type: string;
  /** ms from the event to the fault being over (the server back, the node dead, …). */
  tookMs: number;
}

/**
 * Runs `fault` at each point in turn. `freeze` is called synchronously in the subscription
 * callback that sees the event (so the fault lands inside the phase, not after it), then
 * `fault` runs to completion before the next point is armed. Resolves with what was done.
 */
export function faultAt(
  watch: EventWatch,
  points: readonly FaultPoint[],
  handlers: { freeze?: () => void; fault: (point: FaultPoint) => Promise<void> },
  timeoutMs: number,
): Promise<FaultRecord[]> {
  return new Promise((resolve, reject) => {
    const done: FaultRecord[] = [];
    let i = 0;
    let busy = false;
    const matches = (point: FaultPoint | undefined, e: BgEvent) =>
      point !== undefined && e.type === `bluegreen.${point.type}` && (point.match?.(e) ?? true);
    const finish = (err?: unknown) => {
      clearTimeout(timer);
      off();
      if (err === undefined) resolve(done);
      else reject(err);
    };
    const off = watch.on((event) => {
      const point = points[i];
      if (busy || point === undefined || !matches(point, event)) return;
      busy = true;
      const started = Date.now();
      handlers.freeze?.();
      handlers.fault(point).then(
        () => {
          done.push({ phase: point.phase, type: point.type, tookMs: Date.now() - started });
          i++;
          busy = false;
          if (i === points.length) finish();
        },
        (err: unknown) => finish(err),
      );
    });
    const timer = setTimeout(() => {
      const seen = done.map((d) => d.phase).join(", ") || "nothing";
      finish(new Error(`faults done in: ${seen}; never saw ${points[i]?.type}`));
    }, timeoutMs);
  });
}

/**
 * Every event of a deployment in the stream, in order, read message by message from the
 * stream's leader. No consumer: while a cluster node is down, nats-server 2.9 may place a new
 * ephemeral consumer on it, and creating or reading it then hangs.
 */
export async function storedEvents(stack: E2eStack, deploymentId: string): Promise<BgEvent[]> {
  const jsm = await stack.base.nc.jetstreamManager();
  const settle = { forMs: 15_000 };
  const { state } = await retryTransient(() => jsm.streams.info(STREAM_NAME), settle);
  const prefix = `bluegreen.${stack.service}.`;
  const out: BgEvent[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const msg = await retryTransient(() => jsm.streams.getMessage(STREAM_NAME, { seq }), settle);
    if (!msg.subject.startsWith(prefix)) continue;
    const parsed = parseEvent(msg.data);
    if (parsed.ok && parsed.event.deploymentid === deploymentId) out.push(parsed.event);
  }
  return out;
}

/** `promise`, or a clear failure once `ms` passed (a read that hangs must not hang the test). */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * The state every fault must end in: each event of the deployment stored once (no id twice),
 * at most one `switch.requested` per reason, exactly one terminal event (the expected one),
 * the service lock released, and nginx serving the expected colour and version, healthy.
 */
export async function expectFinalState(
  stack: E2eStack,
  deploymentId: string,
  expected: {
    terminal: TerminalEvent;
    served: { color: string; version: string };
    /** Events that must each be stored exactly once. */
    once: readonly string[];
  },
): Promise<BgEvent[]> {
  expect(deploymentId, "the CLI printed no deployment id").not.toBe("");
  const events = await within(30_000, "the deployment's events", storedEvents(stack, deploymentId));
  const ids = events.map((e) => e.id);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  expect(twice, "event ids stored twice").toEqual([]);
  const kinds = names(events);
  const count = (n: string) => kinds.filter((k) => k === n).length;
  for (const n of expected.once) expect(count(n), `${n} in ${kinds.join(" ")}`).toBe(1);
  const reasons = events
    .filter((e) => e.type === "bluegreen.switch.requested")
    .map((e) => (e.data as { reason: string }).reason);
  expect(new Set(reasons).size, `switch.requested reasons: ${reasons.join(", ")}`).toBe(
    reasons.length,
  );
  const terminals = kinds.filter((k) => (TERMINAL_EVENTS as readonly string[]).includes(k));
  expect(terminals).toEqual([expected.terminal]);
  expect(kinds.at(-1), "the terminal event is the deployment's last").toBe(expected.terminal);
  const lock = await within(15_000, "the service lock", stack.lock());
  expect(lock?.holder, "the lock was held by this deployment").toBe(deploymentId);
  expect(lock?.releasedAt, "the service lock is released").toBeDefined();
  expect(await within(15_000, "what nginx serves", stack.served())).toEqual({
    status: 200,
    ...expected.served,
  });
  return events;
}

/** The agents' warnings and errors, and their deploy/switch/watch lines: for a failed test. */
export function agentLogs(stack: E2eStack): string {
  const interesting =
    /"level":"(warn|error|fatal)"|"msg":"(node deploy|switch|watch|monitor|elected|no longer)/;
  return stack.base.agents
    .map((agent) => {
      const lines = agent.process.output
        .lastLines(600)
        .split("\n")
        .filter((l) => interesting.test(l))
        .map((l) => l.replace(/"stack":"(\\.|[^"\\])*",?/g, "").slice(0, 700));
      return `---- ${agent.name}\n${lines.join("\n")}`;
    })
    .join("\n");
}

/**
 * Re-applies the definition with `change`, then waits until every agent has loaded the new
 * revision (the coordinator reads it when the next deploy is requested).
 */
export async function applyAndWait(
  stack: E2eStack,
  change: Parameters<E2eStack["applyDefinition"]>[0],
): Promise<void> {
  await stack.applyDefinition(change);
  const kv = await stack.base.js.views.kv(Buckets.services);
  const revision = (await kv.get(stack.service))?.revision;
  const loaded = new RegExp(`"revision":${revision},[^\\n]*"msg":"service definition loaded"`);
  await waitFor(
    () =>
      stack.base.agents.every((a) => loaded.test(a.process.output.lastLines(2_000)))
        ? true
        : undefined,
    { what: `every agent to load definition revision ${revision}`, timeoutMs: 15_000 },
  );
}

/**
 * `bluegreen tail --follow` as an operator leaves it running, on the given servers, from a
 * second ago: what it prints of a deployment, and a clean stop (SIGTERM).
 */
export class Tail {
  private constructor(private readonly proc: ManagedProcess) {}

  static async start(servers: readonly string[], service: string): Promise<Tail> {
    const since = new Date(Date.now() - 1_000).toISOString();
    const proc = await spawnProcess({
      name: "bluegreen tail --follow",
      command: process.execPath,
      args: [...sourceArgs("cli"), "tail", "--follow", "--service", service, "--since", since],
      cwd: REPO_ROOT,
      env: { ...process.env, NATS_URL: servers.join(",") },
    });
    return new Tail(proc);
  }

  /** The event names it printed for `deploymentId`, once it printed `last` for it. */
  async events(deploymentId: string, last: string, timeoutMs = 20_000): Promise<string[]> {
    const row = (line: string) => line.trim().split(/\s+/);
    const ours = (line: string) => row(line)[2] === deploymentId;
    const isLast = (line: string) => ours(line) && row(line)[3] === last;
    const printed = () => this.proc.output.lastLines(1_000).split("\n").filter(ours);
    // Checked and then waited for in the same tick: a line cannot slip in between.
    if (!printed().some(isLast))
      await this.proc.waitForLine(isLast, {
        what: `tail --follow to print ${last} of ${deploymentId}`,
        timeoutMs,
      });
    return printed().map((line) => row(line)[3] ?? "");
  }

  async stop(): Promise<number | null> {
    return (await this.proc.stop({ signal: "SIGTERM", timeoutMs: 5_000 })).code;
  }
}
