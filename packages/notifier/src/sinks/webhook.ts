import { createHmac } from "node:crypto";
import { httpCall } from "@bluegreen/runtime";
import type { SendAnswer } from "../decide.ts";
import { classifyHttp, type Sink } from "./sink.ts";

/** The headers of a signed webhook (docs/notifier.md shows how a receiver checks them). */
export const SIGNATURE_HEADER = "x-bluegreen-signature";
export const TIMESTAMP_HEADER = "x-bluegreen-timestamp";

/** `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export interface WebhookSettings {
  name: string;
  url: string;
  /** Resolved at start-up from files or the environment; never logged. */
  signingSecret?: string | undefined;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  ratePerSecond: number;
  concurrency: number;
  now?: () => number;
}

/** POSTs the CloudEvent as it is (structured mode), signed over the timestamp and the body. */
export function webhookSink(s: WebhookSettings): Sink {
  return {
    name: s.name,
    type: "webhook",
    ratePerSecond: s.ratePerSecond,
    concurrency: s.concurrency,
    async send(cloudEvent): Promise<SendAnswer> {
      const body = JSON.stringify(cloudEvent);
      const timestamp = String(Math.floor((s.now?.() ?? Date.now()) / 1000));
      const headers: Record<string, string> = {
        ...s.headers,
        "content-type": "application/cloudevents+json; charset=utf-8",
        "user-agent": "bluegreen-notifier",
        [TIMESTAMP_HEADER]: timestamp,
      };
      const id = (cloudEvent as { id?: unknown }).id;
      if (typeof id === "string") headers["idempotency-key"] = id;
      if (s.signingSecret !== undefined)
        headers[SIGNATURE_HEADER] = signature(s.signingSecret, timestamp, body);
      return classifyHttp(
        await httpCall({
          url: s.url,
          method: "POST",
          headers,
          body,
          timeoutMs: s.timeoutMs,
          maxBodyBytes: 1024,
        }),
      );
    },
  };
}
