import {
  BgError,
  type BgEvent,
  encodeEvent,
  eventNameOfType,
  eventSubject,
  STREAM_NAME,
} from "@bluegreen/contracts";
import { backoffDelay } from "@bluegreen/runtime";
import type { JetStreamClient, JetStreamManager } from "nats";

/**
 * Publishes the events `decide` built (already validated by `createEvent`) to the stream,
 * the event id as `Nats-Msg-Id`, retried on timeouts. The runtime's `Bus.publish` validates
 * every event again; on the coordinator's hot path once is enough.
 */
export function streamPublisher(js: JetStreamClient, retries = 3) {
  return async (event: BgEvent): Promise<void> => {
    const name = eventNameOfType(event.type);
    if (name === undefined) throw new BgError("BG_ERR_EVENT_UNKNOWN_TYPE", { type: event.type });
    const subject = eventSubject(event.subject, name);
    const payload = encodeEvent(event);
    let last: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0)
        await new Promise((r) =>
          setTimeout(r, backoffDelay(attempt, { baseMs: 250, maxMs: 4_000 })),
        );
      try {
        await js.publish(subject, payload, {
          msgID: event.id,
          expect: { streamName: STREAM_NAME },
          timeout: 5_000,
        });
        return;
      } catch (err) {
        last = err;
      }
    }
    throw new BgError(
      "BG_ERR_NATS_PUBLISH",
      { subject, reason: last instanceof Error ? last.message : String(last) },
      { cause: last },
    );
  };
}

/** Whether the last message on the event's subject is this very event (looked up by id). */
export function streamLookup(jsm: JetStreamManager) {
  return async (event: BgEvent): Promise<boolean> => {
    const name = eventNameOfType(event.type);
    if (name === undefined) return false;
    try {
      const stored = await jsm.streams.getMessage(STREAM_NAME, {
        last_by_subj: eventSubject(event.subject, name),
      });
      return (
        (JSON.parse(new TextDecoder().decode(stored.data)) as { id?: unknown }).id === event.id
      );
    } catch {
      return false; // no message on that subject
    }
  };
}
