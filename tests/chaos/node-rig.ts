// What the node-fault, concurrency and partition suites share: a deployment's events as a
// readable timeline and counts, the traffic nginx served in a time span, the node agent's
// durable consumer (to know that a redelivery was handled), a node agent of the test's own
// configuration, and the step processes a deployment left behind.

import { type AnyBgEvent, type BgEvent, filterSubject, STREAM_NAME } from "@bluegreen/contracts";
import { consumerName } from "@bluegreen/runtime";
import {
  type AgentProcess,
  agentConfig,
  type CliResult,
  killAll,
  pidsWithEnv,
  startAgent,
  type TrafficSample,
  timeline,
} from "@bluegreen/testkit";
import type { JetStreamManager } from "nats";
import { deploymentIdOf } from "./nats-faults.ts";

/** How often each timeline entry occurs. */
export function counts(events: readonly BgEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of timeline(events)) out[name] = (out[name] ?? 0) + 1;
  return out;
}

/** What a `bluegreen deploy --wait` run ended with, and its deployment's stored `events`. */
export async function deployEnded<E>(
  result: CliResult,
  events: (deploymentId: string) => Promise<E[]>,
): Promise<{ code: number | null; output: string; deploymentId: string; events: E[] }> {
  const deploymentId = deploymentIdOf(result.stdout);
  return {
    code: result.code,
    output: result.stdout + result.stderr,
    deploymentId,
    events: await events(deploymentId),
  };
}

/** The event ids that occur more than once (the stream should never hold one twice). */
export function repeatedIds(events: readonly BgEvent[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const e of events) {
    if (seen.has(e.id)) repeated.add(e.id);
    seen.add(e.id);
  }
  return [...repeated];
}

export function only<T extends string>(events: readonly BgEvent[], name: T) {
  const found = events.filter((e) => e.type === `bluegreen.${name}`);
  if (found.length !== 1) {
    throw new Error(`expected one ${name}, found ${found.length}: ${timeline(events).join(", ")}`);
  }
  return found[0] as unknown as Extract<AnyBgEvent, { type: `bluegreen.${T}` }>;
}

/** What the request loop saw between two instants: how many, and every answer not from `color`. */
export function trafficBetween(
  samples: readonly TrafficSample[],
  from: number,
  to: number,
  color: string,
): { requests: number; other: TrafficSample[] } {
  const inside = samples.filter((s) => s.at >= from && s.at <= to);
  return {
    requests: inside.length,
    other: inside.filter((s) => s.status !== 200 || s.color !== color),
  };
}

/** The node agent's durable consumer of `deploy.started` (runtime's naming). */
export function startedConsumer(agentId: string): string {
  return consumerName(`node-agent-${agentId}`, filterSubject({ name: "deploy.started" }));
}

/**
 * Resolves with the consumer's state once every message up to `streamSeq` has been acked
 * (delivered, handled and settled), i.e. a pending redelivery was handled.
 */
export async function consumerSettled(
  jsm: JetStreamManager,
  consumer: string,
  streamSeq: number,
): Promise<{ delivered: number; redelivered: number; ackPending: number }> {
  const info = await jsm.consumers.info(STREAM_NAME, consumer);
  if (info.ack_floor.stream_seq < streamSeq || info.num_ack_pending > 0) {
    throw new Error(
      `ack floor ${info.ack_floor.stream_seq} < ${streamSeq} or ${info.num_ack_pending} unacked`,
    );
  }
  return {
    delivered: info.delivered.consumer_seq,
    redelivered: info.num_redelivered,
    ackPending: info.num_ack_pending,
  };
}

export interface NodeAgentOptions {
  readonly natsUrl: string;
  readonly service: string;
  readonly color: "blue" | "green";
  /** An `ssh:` section for the SSH executor. */
  readonly ssh?: Record<string, unknown>;
  /** Where the agent notes running steps (`state_dir`), so a restart ends what a crash left. */
  readonly stateDir?: string;
}

/** A node agent (its bin) serving one colour of one service, with the test's own config. */
export function startNodeAgent(
  agentId: string,
  dir: string,
  opts: NodeAgentOptions,
): Promise<AgentProcess> {
  return startAgent(
    "nodeAgent",
    agentId,
    dir,
    agentConfig("node-agent", agentId, opts.natsUrl, {
      serves: [{ service: opts.service, color: opts.color }],
      ...(opts.ssh === undefined ? {} : { ssh: opts.ssh }),
      ...(opts.stateDir === undefined ? {} : { state_dir: opts.stateDir }),
    }),
  );
}

/** Live processes a deployment's steps started (every step gets BLUEGREEN_DEPLOYMENT_ID). */
export function stepProcesses(deploymentId: string): number[] {
  return pidsWithEnv("BLUEGREEN_DEPLOYMENT_ID", deploymentId);
}

export async function killStepProcesses(deploymentId: string): Promise<void> {
  await killAll(() => stepProcesses(deploymentId), `step processes of ${deploymentId}`);
}

/** `/bin/sh -c` that appends the deployment id to `file`, then sleeps (a long first step). */
export function countingStep(file: string, sleepSeconds = 0): string[] {
  const append = `echo "$BLUEGREEN_DEPLOYMENT_ID" >> '${file}'`;
  return ["/bin/sh", "-c", sleepSeconds > 0 ? `${append}; exec sleep ${sleepSeconds}` : append];
}
