import { createHash } from "node:crypto";
import { EVENT_ID_PATTERN } from "@bluegreen/contracts";

/**
 * The id of the answer to a request is derived from the request's id, so an answer published
 * again (a redelivered request, a publish retried after a lost ack) is dropped by the
 * stream's de-duplication instead of appearing twice in the audit log.
 */
export function answerId(requestId: string, kind: "done" | "failed"): string {
  const readable = `${requestId}.${kind}`;
  if (EVENT_ID_PATTERN.test(readable)) return readable;
  const hash = createHash("sha256").update(requestId).digest("hex").slice(0, 40);
  return `switch-${hash}.${kind}`;
}
