import { BgError, type BgEvent, parseEvent } from "@bluegreen/contracts";
import {
  ConsumerDebugEvents,
  ConsumerEvents,
  type ConsumerMessages,
  Events,
  type JetStreamClient,
  type NatsConnection,
  type Status,
} from "nats";
import { type OpenedRead, type OpenOptions, openMessages, PULL_EXPIRES_MS } from "./stream-open.ts";

/**
 * Reads the audit stream in order (a consumer in memory, no acks, dropped by the server when
 * unused; see openMessages). Without `follow` it stops once it caught up (nothing was there to
 * read when it opened, or the last message read had none pending behind it); with it, it runs
 * until `signal` aborts.
 */
export interface ReadOptions extends OpenOptions {
  /**
   * Without `follow`: how long the read waits for a message still due before it fails with
   * BG_ERR_NATS_CONNECT (a server that stopped answering) — a pause is never taken for the end.
   */
  stallMs?: number;
  /**
   * The connection `js` reads over. A follower opens its read again after the connection
   * comes back (see readStream). If it closes for good (not a restart it rides out), the read
   * fails with BG_ERR_NATS_CONNECT instead of waiting for messages that cannot come.
   */
  connection?: NatsConnection;
}

export interface StreamItem {
  seq: number;
  subject: string;
  /** The event, or undefined when the stored message is not a valid event. */
  event: BgEvent | undefined;
  raw: string;
  /** Why the stored message is not a valid event (when it is not). */
  error?: { code: string; message: string };
}

/** Calls `fn` on every reconnect of `nc`, until the returned stop is called. */
function onReconnect(nc: NatsConnection, fn: () => void): () => void {
  const status = nc.status() as AsyncIterable<Status> & { stop?: () => void };
  (async () => {
    for await (const s of status) if (s.type === Events.Reconnect) fn();
  })().catch(() => undefined);
  return () => status.stop?.();
}

/**
 * A follower's read that neither pulled nor received anything for this long is stuck: a
 * healthy one pulls at least every PULL_EXPIRES_MS, even on a quiet stream.
 */
export const STALL_MS = 3 * PULL_EXPIRES_MS;

/** A one-shot read that waits this long for a message still due has lost its server. */
export const ONE_SHOT_STALL_MS = 15_000;

/**
 * Calls `fn` once if the read misses the server's heartbeats (its consumer is gone), or if it
 * issues no pull and gets no message for STALL_MS (a read that pulls nothing cannot miss a
 * heartbeat). Answers `touch`, to be called on each message.
 */
function onStall(messages: ConsumerMessages, fn: () => void): () => void {
  let last = Date.now();
  let fired = false;
  const fire = () => {
    if (fired) return;
    fired = true;
    clearInterval(watchdog);
    fn();
  };
  const watchdog = setInterval(() => {
    if (Date.now() - last > STALL_MS) fire();
  }, 1_000);
  watchdog.unref();
  (async () => {
    for await (const s of await messages.status()) {
      if (s.type === ConsumerEvents.HeartbeatsMissed) return fire();
      if (s.type === ConsumerDebugEvents.Next) last = Date.now();
    }
  })()
    .catch(() => undefined)
    .finally(() => clearInterval(watchdog));
  return () => {
    last = Date.now();
  };
}

/**
 * Yields the stream's messages in order. A follower survives the server: after a reconnect,
 * or when the heartbeats stop, it drops its consumer and opens a new one right after the last
 * message it yielded, so nothing is lost or yielded twice; the same when a delivery is
 * missing (a gap in the consumer's delivery sequence). A consumer that lived on a cluster
 * node that died answers nothing while that node stays down: a new one is placed anew.
 */
export async function* readStream(
  js: JetStreamClient,
  opts: ReadOptions,
): AsyncGenerator<StreamItem> {
  const stallMs = opts.stallMs ?? ONE_SHOT_STALL_MS;
  let current: OpenedRead | undefined;
  let after: number | undefined = opts.after;
  let reopen = false;
  let lost: string | undefined;
  let stallTimer: NodeJS.Timeout | undefined;
  const stop = () => current?.messages.stop();
  const restart = () => {
    reopen = true;
    current?.messages.stop();
  };
  // A one-shot read that waited stallMs asks the server: nothing pending any more (the rest
  // aged out or was purged) is the end; still pending, or no answer, is a server that failed —
  // unless messages came again meanwhile (the loop then waits anew).
  const stalled = (read: OpenedRead) => {
    const at = after;
    const end = (why: string | undefined) => {
      if (after !== at || current !== read) return;
      lost ??= why;
      read.messages.stop();
    };
    read.pendingNow().then(
      (pending) =>
        end(
          pending > 0
            ? `nothing came for ${stallMs} ms, with ${pending} message(s) still to read after seq ${at ?? "(start)"}`
            : undefined,
        ),
      (err: unknown) =>
        end(
          `nothing came for ${stallMs} ms, and the server did not answer: ${err instanceof Error ? err.message : String(err)}`,
        ),
    );
  };
  const armStall = () => {
    if (opts.follow || current === undefined) return;
    clearTimeout(stallTimer);
    stallTimer = setTimeout(stalled, stallMs, current);
  };
  opts.signal?.addEventListener("abort", stop, { once: true });
  opts.connection
    ?.closed()
    .then((err) => {
      lost = err instanceof Error ? err.message : "the connection was closed";
      stop();
    })
    .catch(() => undefined);
  const stopWatching =
    opts.follow && opts.connection !== undefined
      ? onReconnect(opts.connection, restart)
      : () => undefined;
  try {
    for (;;) {
      reopen = false;
      const opened = await openMessages(js, opts, after);
      if (opened === undefined) return;
      const { messages } = opened;
      current = opened;
      if (!opts.follow && opened.pending === 0) return;
      const touch = opts.follow ? onStall(messages, restart) : () => undefined;
      armStall();
      let delivered = 0;
      for await (const msg of messages) {
        touch();
        // Without acks nothing is redelivered: a missing delivery is read again from `after`.
        if (msg.info.deliverySequence !== delivered + 1) {
          restart();
          break;
        }
        delivered = msg.info.deliverySequence;
        after = msg.seq;
        const parsed = parseEvent(msg.data);
        clearTimeout(stallTimer); // the caller's time with the item is not the server's
        yield {
          seq: msg.seq,
          subject: msg.subject,
          event: parsed.ok ? parsed.event : undefined,
          raw: new TextDecoder().decode(msg.data),
          ...(parsed.ok
            ? {}
            : { error: { code: parsed.error.code, message: parsed.error.message } }),
        };
        if (!opts.follow && msg.info.pending === 0) return;
        armStall();
      }
      if (lost !== undefined && opts.signal?.aborted !== true) {
        throw new BgError("BG_ERR_NATS_CONNECT", {
          servers: opts.connection?.getServer() ?? "?",
          reason: `lost while reading the stream: ${lost}`,
        });
      }
      if (!reopen || opts.signal?.aborted === true) return;
    }
  } finally {
    clearTimeout(stallTimer);
    opts.signal?.removeEventListener("abort", stop);
    stopWatching();
    stop();
  }
}
