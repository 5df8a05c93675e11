import { createHash } from "node:crypto";
import { STREAM_NAME } from "@bluegreen/contracts";
import { AckPolicy, type ConsumerConfig, DeliverPolicy, nanos, ReplayPolicy } from "nats";

/** Where a new durable consumer starts reading. Ignored once the consumer exists. */
export type DeliverFrom = "new" | "all" | { startTime: Date };

export const DEFAULT_ACK_WAIT_MS = 30_000;
export const DEFAULT_MAX_DELIVER = 10;
const NAME_LIMIT = 96;

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/**
 * The consumer name for one (durable, filter) pair. nats-server 2.9 has one `filter_subject`
 * per consumer, so a durable with several filters becomes several consumers. The name is
 * readable (`coordinator--any.deploy.requested` with `.` → `_`) and carries a hash of the
 * exact pair, so two filters that read alike never share a consumer.
 *
 * `coordinator` + `bluegreen.*.deploy.requested` → `coordinator--any_deploy_requested-1a2b3c4d`
 */
export function consumerName(durable: string, filter: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");
  const readable = filter
    .replace(/^bluegreen\./, "")
    .split(".")
    .map((token) => (token === "*" ? "any" : token === ">" ? "all" : token))
    .join("_");
  const head = `${safe(durable)}--${safe(readable)}`.slice(0, NAME_LIMIT - 9);
  return `${head}-${shortHash(`${durable}\n${filter}`)}`;
}

export interface ConsumerSettings {
  name: string;
  filter: string;
  deliver: DeliverFrom;
  ackWaitMs: number;
  maxDeliver: number;
  description?: string;
}

/** A durable pull consumer on BLUEGREEN with explicit acks. */
export function consumerConfig(s: ConsumerSettings): Partial<ConsumerConfig> {
  const base: Partial<ConsumerConfig> = {
    name: s.name,
    durable_name: s.name,
    filter_subject: s.filter,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(s.ackWaitMs),
    max_deliver: s.maxDeliver,
    replay_policy: ReplayPolicy.Instant,
    description: s.description ?? `bluegreen consumer of ${s.filter} on ${STREAM_NAME}`,
  };
  if (s.deliver === "new") return { ...base, deliver_policy: DeliverPolicy.New };
  if (s.deliver === "all") return { ...base, deliver_policy: DeliverPolicy.All };
  return {
    ...base,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: s.deliver.startTime.toISOString(),
  };
}

/** Settings that can change on an existing consumer without recreating it. */
export function consumerUpdates(
  current: Partial<ConsumerConfig>,
  wanted: Partial<ConsumerConfig>,
): Partial<ConsumerConfig> | undefined {
  const changes: Partial<ConsumerConfig> = {};
  if (current.ack_wait !== wanted.ack_wait) changes.ack_wait = wanted.ack_wait;
  if (current.max_deliver !== wanted.max_deliver) changes.max_deliver = wanted.max_deliver;
  if (current.description !== wanted.description) changes.description = wanted.description;
  return Object.keys(changes).length === 0 ? undefined : changes;
}

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** 0..1: the share of the delay that is random. */
  jitter?: number;
}

/**
 * Exponential backoff with jitter for the `attempt`-th failure (1-based):
 * base·2^(attempt-1), capped at max, the last `jitter` share of it random.
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const base = opts.baseMs ?? 1_000;
  const max = opts.maxMs ?? 30_000;
  const jitter = opts.jitter ?? 0.2;
  const exp = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (1 - jitter) + exp * jitter * random());
}

/** A deterministic rejection event id, so a redelivered bad message is rejected once. */
export function rejectionId(consumer: string, streamSequence: number): string {
  return `rej-${shortHash(consumer)}-${streamSequence}`;
}
