// Opening the CLI's read of the audit stream: an ordered consumer from a point in time or
// right after a stream sequence, retried while the server is away.

import { filterSubject, STREAM_NAME } from "@bluegreen/contracts";
import {
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type NatsConnection,
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

/** How long one pull of the read waits; also how soon it recovers from a server restart. */
export const PULL_EXPIRES_MS = 5_000;

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
 * Opens an ordered consumer from `since` (or the first message), or right after stream
 * sequence `after`. A follower whose server is restarting (the request times out, nobody
 * answers) tries again until its signal ends the wait; undefined then. An attempt that hangs
 * (nats.js retries creating the consumer on its own, for minutes when the cluster placed it on
 * a node that is down) is abandoned after OPEN_ATTEMPT_MS for a fresh one.
 */
export async function openMessages(
  js: JetStreamClient,
  opts: OpenOptions,
  after: number | undefined,
): Promise<ConsumerMessages | undefined> {
  const start =
    after !== undefined
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 }
      : opts.since !== undefined
        ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: opts.since.toISOString() }
        : // No policy means "from the first message" (nats.js sends a start sequence of 1; an
          // explicit DeliverPolicy.All beside it is refused by the server).
          {};
  const open = async () => {
    const consumer = await js.consumers.get(STREAM_NAME, {
      filterSubjects: filterSubject(opts.service === undefined ? {} : { service: opts.service }),
      ...start,
    });
    // Pulls of 5 s (not nats.js' 30 s): the ordered consumer waits up to `expires` before it
    // re-creates itself after a server restart, and misses heartbeats after two halves of it.
    return consumer.consume({ max_messages: 256, expires: PULL_EXPIRES_MS });
  };
  for (let attempt = 1; ; attempt++) {
    const opening = open();
    try {
      const messages = opts.follow
        ? await settleWithin(opening, OPEN_ATTEMPT_MS, opts.signal)
        : await opening;
      if (messages !== undefined) return messages;
      // Abandoned: if it opens after all, it is closed at once.
      opening.then((late) => late.stop()).catch(() => undefined);
    } catch (err) {
      const retry = opts.follow && isTransientNatsError(err) && !opts.connection?.isClosed();
      if (!retry) throw err;
    }
    if (opts.signal?.aborted) return undefined;
    await sleep(Math.min(2_000, 250 * attempt), opts.signal);
    if (opts.signal?.aborted) return undefined;
  }
}
