// Reading a stretch of the audit stream that is already stored: the events a page missed while
// its connection was down (after a sequence), or one deployment's story (from a time). An
// ordered consumer, nothing left on the server; it stops once nothing more matched.

import { type BgEvent, filterSubject, parseEvent, STREAM_NAME } from "@bluegreen/contracts";
import { DeliverPolicy, type JetStreamClient } from "nats";

/** One stored event and its stream sequence: the id a page resumes from. */
export interface SeqEvent {
  seq: number;
  event: BgEvent;
}

export interface RangeOptions {
  service?: string | undefined;
  /** Start right after this stream sequence… */
  after?: number | undefined;
  /** …or at this time. */
  since?: Date | undefined;
  /** Stop at this sequence (what came later arrives live). */
  upTo: number;
}

/** How long one read may take before it gives up on what is left (a stalled server). */
const READ_DEADLINE_MS = 15_000;

/** The stored events in the range, in order (messages that are not valid events skipped). */
export async function readRange(js: JetStreamClient, opts: RangeOptions): Promise<SeqEvent[]> {
  if (opts.after !== undefined && opts.after >= opts.upTo) return [];
  const start =
    opts.after !== undefined
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: opts.after + 1 }
      : opts.since !== undefined
        ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: opts.since.toISOString() }
        : {};
  const consumer = await js.consumers.get(STREAM_NAME, {
    filterSubjects: filterSubject(opts.service === undefined ? {} : { service: opts.service }),
    ...start,
  });
  const info = await consumer.info(true);
  if (info.num_pending === 0) return [];
  const out: SeqEvent[] = [];
  const messages = await consumer.consume({ max_messages: 512, expires: 5_000 });
  const timer = setTimeout(() => messages.stop(), READ_DEADLINE_MS);
  try {
    for await (const msg of messages) {
      if (msg.seq > opts.upTo) break;
      const parsed = parseEvent(msg.data);
      if (parsed.ok) out.push({ seq: msg.seq, event: parsed.event });
      if (msg.seq === opts.upTo || msg.info.pending === 0) break;
    }
  } finally {
    clearTimeout(timer);
    messages.stop();
  }
  return out;
}
