// Reading a stretch of the audit stream that is already stored: the events a page missed while
// its connection was down (after a sequence), or one deployment's story (from a time). Runtime's
// `readStream`, one-shot: it stops once it caught up.

import type { BgEvent } from "@bluegreen/contracts";
import { readStream } from "@bluegreen/runtime";
import type { JetStreamClient } from "nats";

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
  const out: SeqEvent[] = [];
  const read = readStream(js, {
    follow: false,
    service: opts.service,
    after: opts.after,
    since: opts.since,
    signal: AbortSignal.timeout(READ_DEADLINE_MS),
  });
  for await (const item of read) {
    if (item.seq > opts.upTo) break;
    if (item.event !== undefined) out.push({ seq: item.seq, event: item.event });
    if (item.seq === opts.upTo) break;
  }
  return out;
}
