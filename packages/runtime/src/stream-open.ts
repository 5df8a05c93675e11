// Opening a read of the audit stream (the CLI's, the dashboard's live feed): a consumer of its
// own with no acks, from a point in time or right after a stream sequence, retried while the
// server is away.

import { filterSubject, STREAM_NAME } from "@bluegreen/contracts";
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type NatsConnection,
  nanos,
  nuid,
} from "nats";
import { sleep } from "./sleep.ts";
import { isTransientNatsError } from "./transient.ts";

/** Where a read starts and whether it follows (readStream's `ReadOptions` adds the rest). */
export interface OpenOptions {
  service?: string | undefined;
  since?: Date | undefined;
  /** A follower retries opening while the server is away; a one-shot read fails at once. */
  follow: boolean;
  signal?: AbortSignal;
  /** A follower stops retrying once this connection closed for good. */
  connection?: NatsConnection;
  /** Start right after this stream sequence (instead of `since`). */
  after?: number | undefined;
}

/** An opened read: its messages, and how many were there to read when it opened. */
export interface OpenedRead {
  messages: ConsumerMessages;
  pending: number;
  /** Asks the server how many are still to read. */
  pendingNow(): Promise<number>;
}

/** How long one pull of the read waits; also how soon it recovers from a server restart. */
export const PULL_EXPIRES_MS = 5_000;

/** A read's consumer is dropped by the server once nobody pulled from it for this long. */
const READ_INACTIVE_MS = 5 * 60_000;

/** How long one attempt to open the read may take before a fresh one is tried. */
const OPEN_ATTEMPT_MS = 10_000;

/** Resolves with `promise`, or with undefined once `ms` passed or `signal` aborted. */
export function settleWithin<T>(
  promise: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve(undefined);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    promise.then(
      (value) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        reject(err);
      },
    );
  });
}

/**
 * Opens a read from `since` (or the first message), or right after stream
 * sequence `after`. A follower whose server is restarting (the request times out, nobody
 * answers) tries again until its signal ends the wait; undefined then. An attempt that hangs
 * (a cluster that placed the consumer on a node that is down answers nothing) is abandoned
 * after OPEN_ATTEMPT_MS for a fresh one.
 */
export async function openMessages(
  js: JetStreamClient,
  opts: OpenOptions,
  after: number | undefined,
): Promise<OpenedRead | undefined> {
  const start =
    after !== undefined
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 }
      : opts.since !== undefined
        ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: opts.since.toISOString() }
        : { deliver_policy: DeliverPolicy.All };
  const open = async () => {
    // A consumer of its own, not nats.js' ordered one: that one re-creates itself in the
    // background, for ever, after its node died, and attaches what it re-created to a read
    // already stopped (a hidden consumer pulling until the process exits). The follower
    // reopens from the last message itself (readStream), so none of that is needed. Same
    // shape as an ordered consumer (named, no acks, in memory, one replica): the same NATS
    // permissions; the server drops it once unused for READ_INACTIVE_MS.
    const jsm = await js.jetstreamManager(false);
    const info = await jsm.consumers.add(STREAM_NAME, {
      name: `bluegreen_read_${nuid.next()}`,
      ack_policy: AckPolicy.None,
      max_deliver: 1,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(READ_INACTIVE_MS),
      filter_subject: filterSubject(opts.service === undefined ? {} : { service: opts.service }),
      ...start,
    });
    const consumer = await js.consumers.get(STREAM_NAME, info.name);
    // Pulls of 5 s (not nats.js' 30 s): heartbeats are missed, and a stalled read noticed,
    // within a few seconds of a server going away.
    const messages = await consumer.consume({ max_messages: 256, expires: PULL_EXPIRES_MS });
    return {
      messages,
      pending: info.num_pending,
      pendingNow: async () => (await jsm.consumers.info(STREAM_NAME, info.name)).num_pending,
    };
  };
  for (let attempt = 1; ; attempt++) {
    const opening = open();
    try {
      const opened = opts.follow
        ? await settleWithin(opening, OPEN_ATTEMPT_MS, opts.signal)
        : await opening;
      if (opened !== undefined) return opened;
      // Abandoned: if it opens after all, it is closed at once.
      opening.then((late) => late.messages.stop()).catch(() => undefined);
    } catch (err) {
      const retry = opts.follow && isTransientNatsError(err) && !opts.connection?.isClosed();
      if (!retry) throw err;
    }
    if (opts.signal?.aborted) return undefined;
    await sleep(Math.min(2_000, 250 * attempt), opts.signal);
    if (opts.signal?.aborted) return undefined;
  }
}
