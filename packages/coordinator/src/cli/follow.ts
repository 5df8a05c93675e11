import { type BgEvent, filterSubject, parseEvent, STREAM_NAME } from "@bluegreen/contracts";
import { DeliverPolicy, type JetStreamClient } from "nats";

/**
 * Reads the audit stream in order (an ordered consumer: nothing stored on the server). Without
 * `follow` it stops once it caught up; with it, it runs until `signal` aborts.
 */
export interface ReadOptions {
  service?: string | undefined;
  since?: Date | undefined;
  follow: boolean;
  signal?: AbortSignal;
  /** Without `follow`: stop after this long without a message (an empty stream). */
  idleMs?: number;
}

export interface StreamItem {
  seq: number;
  subject: string;
  /** The event, or undefined when the stored message is not a valid event. */
  event: BgEvent | undefined;
  raw: string;
}

export async function* readStream(
  js: JetStreamClient,
  opts: ReadOptions,
): AsyncGenerator<StreamItem> {
  const consumer = await js.consumers.get(STREAM_NAME, {
    filterSubjects: filterSubject(opts.service === undefined ? {} : { service: opts.service }),
    // No policy means "from the first message" (nats.js sends a start sequence of 1; an
    // explicit DeliverPolicy.All beside it is refused by the server).
    ...(opts.since === undefined
      ? {}
      : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: opts.since.toISOString() }),
  });
  const messages = await consumer.consume({ max_messages: 256 });
  const idleMs = opts.idleMs ?? 1_000;
  let idle: NodeJS.Timeout | undefined;
  const stop = () => {
    messages.stop();
  };
  const armIdle = () => {
    if (opts.follow) return;
    clearTimeout(idle);
    idle = setTimeout(stop, idleMs);
  };
  opts.signal?.addEventListener("abort", stop, { once: true });
  armIdle();
  try {
    for await (const msg of messages) {
      const raw = new TextDecoder().decode(msg.data);
      const parsed = parseEvent(msg.data);
      yield {
        seq: msg.seq,
        subject: msg.subject,
        event: parsed.ok ? parsed.event : undefined,
        raw,
      };
      if (!opts.follow && msg.info.pending === 0) break;
      armIdle();
    }
  } finally {
    clearTimeout(idle);
    opts.signal?.removeEventListener("abort", stop);
    stop();
  }
}
