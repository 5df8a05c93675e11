import { type BgEvent, eventNameOfType, eventSubject, STREAM_NAME } from "@bluegreen/contracts";
import type { JetStreamManager } from "nats";

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
