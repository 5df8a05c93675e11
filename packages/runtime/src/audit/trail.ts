// Reading the audit trail from the stream: every message from a sequence or a time, with the
// header the chain covers, and the last checkpoint stored. The I/O shell of ./chain.ts.

import { STREAM_NAME } from "@bluegreen/contracts";
import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StoredMsg,
} from "nats";
import { isNotFound } from "../streams.ts";
import { CHECKPOINT_SUBJECT, type StoredMessage } from "./chain.ts";

const MSG_ID = "Nats-Msg-Id";

export interface TrailRead {
  readonly messages: StoredMessage[];
  /** The stream's first and last sequence when the read began (0 and 0 when empty). */
  readonly firstSeq: number;
  readonly lastSeq: number;
}

export interface ReadTrailOptions {
  /** Start at this sequence… */
  readonly fromSeq?: number;
  /** …or at this time; neither: from the first message. */
  readonly since?: Date;
  /** Stop at this sequence (default: the last one when the read began). */
  readonly toSeq?: number;
  /** Give up when no message came for this long (default 15 s: a stalled server). */
  readonly idleMs?: number;
  /** Only the messages on this subject (e.g. the checkpoints). */
  readonly subject?: string;
}

function fromJs(m: JsMsg): StoredMessage {
  return {
    seq: m.seq,
    subject: m.subject,
    msgId: m.headers?.get(MSG_ID) ?? "",
    payload: m.data,
    time: new Date(Math.floor(m.info.timestampNanos / 1e6)).toISOString(),
  };
}

/** The stream's messages in sequence order (an ordered consumer: nothing left on the server). */
export async function readTrail(
  js: JetStreamClient,
  jsm: JetStreamManager,
  opts: ReadTrailOptions = {},
): Promise<TrailRead> {
  const { state } = await jsm.streams.info(STREAM_NAME);
  const lastSeq = Math.min(opts.toSeq ?? state.last_seq, state.last_seq);
  const empty = { messages: [], firstSeq: state.first_seq, lastSeq: state.last_seq };
  if (state.messages === 0 || (opts.fromSeq ?? 0) > lastSeq) return empty;
  const start =
    opts.fromSeq !== undefined
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: opts.fromSeq }
      : opts.since !== undefined
        ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: opts.since.toISOString() }
        : {};
  const consumer = await js.consumers.get(STREAM_NAME, {
    ...start,
    ...(opts.subject !== undefined ? { filterSubjects: opts.subject } : {}),
  });
  const info = await consumer.info(true);
  if (info.num_pending === 0) return empty;
  const out: StoredMessage[] = [];
  const iter = await consumer.consume({ max_messages: 512, expires: 5_000 });
  const idleMs = opts.idleMs ?? 15_000;
  const timer = setTimeout(() => iter.stop(), idleMs);
  // Read to the end: past `lastSeq` (with a subject filter, the next match may lie beyond it).
  let done = false;
  try {
    for await (const m of iter) {
      timer.refresh();
      if (m.seq > lastSeq) {
        done = true;
        break;
      }
      out.push(fromJs(m));
      if (m.seq === lastSeq || m.info.pending === 0) {
        done = true;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    iter.stop();
  }
  const reached = out[out.length - 1]?.seq ?? 0;
  if (!done && reached < lastSeq && info.num_pending > out.length)
    throw new Error(
      `reading the stream stopped at seq ${reached} of ${lastSeq}: nothing came for ${idleMs} ms`,
    );
  return { messages: out, firstSeq: state.first_seq, lastSeq: state.last_seq };
}

/** The last checkpoint message stored, if any. */
export async function lastCheckpointMessage(
  jsm: JetStreamManager,
): Promise<StoredMessage | undefined> {
  let sm: StoredMsg;
  try {
    sm = await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: CHECKPOINT_SUBJECT });
  } catch (err) {
    const code = (err as { api_error?: { err_code?: number }; code?: string }).api_error?.err_code;
    if (code === 10037 || isNotFound(err, "stream") || /no message found/i.test(String(err)))
      return undefined;
    throw err;
  }
  return {
    seq: sm.seq,
    subject: sm.subject,
    msgId: sm.header?.get(MSG_ID) ?? "",
    payload: sm.data,
    time: sm.time.toISOString(),
  };
}
