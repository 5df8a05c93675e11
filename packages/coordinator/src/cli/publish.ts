import { hostname, userInfo } from "node:os";
import {
  BgError,
  type BgEvent,
  encodeEvent,
  eventNameOfType,
  eventSubject,
  STREAM_NAME,
} from "@bluegreen/contracts";
import type { JetStreamClient } from "nats";

/** Who runs the CLI: `alice@build-7`, for `requestedBy`/`by` and the event `source`. */
export function whoami(): string {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? "unknown";
  }
  return `${user}@${hostname()}`.slice(0, 128);
}

export function cliSource(): string {
  return `bluegreen/cli/${whoami()}`.slice(0, 256);
}

/** Publishes to the audit stream; the event id is the Nats-Msg-Id, so a retry is dropped. */
export async function publishEvent(
  js: JetStreamClient,
  event: BgEvent,
): Promise<{ seq: number; duplicate: boolean }> {
  const name = eventNameOfType(event.type);
  if (name === undefined) throw new BgError("BG_ERR_EVENT_UNKNOWN_TYPE", { type: event.type });
  const subject = eventSubject(event.subject, name);
  try {
    const ack = await js.publish(subject, encodeEvent(event), {
      msgID: event.id,
      expect: { streamName: STREAM_NAME },
      timeout: 5_000,
    });
    return { seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    throw new BgError(
      "BG_ERR_NATS_PUBLISH",
      { subject, reason: err instanceof Error ? err.message : String(err) },
      { cause: err },
    );
  }
}
