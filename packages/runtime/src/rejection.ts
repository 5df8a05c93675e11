import { type BgError, type EventData, type Issue, serviceTokenOf } from "@bluegreen/contracts";

export const EXCERPT_LIMIT = 512;

const clip = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** Control characters (other than tab and newlines) become U+FFFD, so an excerpt is printable. */
function withoutControls(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    const control = (code < 0x20 && ch !== "\t" && ch !== "\n" && ch !== "\r") || code === 0x7f;
    out += control ? "\ufffd" : ch;
  }
  return out;
}

/** The start of a payload as text, for a human reading the rejection; never more than 512 chars. */
export function excerptOf(payload: Uint8Array | string): string {
  const text =
    typeof payload === "string"
      ? payload.slice(0, EXCERPT_LIMIT * 2)
      : new TextDecoder("utf-8", { fatal: false }).decode(payload.subarray(0, EXCERPT_LIMIT * 4));
  return clip(withoutControls(text), EXCERPT_LIMIT);
}

export interface RejectionInput {
  error: BgError;
  issues?: readonly Issue[];
  /** `<role>/<agentId>` of the rejecting agent. */
  rejectedBy: string;
  subject: string;
  payload: Uint8Array | string;
  originalId?: string | undefined;
  originalType?: string | undefined;
}

/** The data of an `agent.rejected` event, every field clipped to the contract's bounds. */
export function rejectionData(input: RejectionInput): EventData<"agent.rejected"> {
  const issues = (
    input.issues ?? (Array.isArray(input.error.details) ? (input.error.details as Issue[]) : [])
  )
    .filter((i) => typeof i?.path === "string" && typeof i?.message === "string")
    .slice(0, 20)
    .map((i) => ({ path: clip(i.path, 256), message: clip(i.message, 512) }));
  return {
    code: input.error.code,
    message: clip(input.error.message, 2048),
    issues,
    rejectedBy: clip(input.rejectedBy, 128),
    originalSubject: clip(input.subject, 512),
    ...(input.originalId === undefined ? {} : { originalId: clip(input.originalId, 128) }),
    ...(input.originalType === undefined ? {} : { originalType: clip(input.originalType, 128) }),
    excerpt: excerptOf(input.payload),
  };
}

/** The service a rejection is filed under: the subject's service token, or `_`. */
export function rejectionService(subject: string): string {
  return serviceTokenOf(subject);
}

/** Rejections are never answered with rejections, or two agents could echo forever. */
export function isRejectionSubject(subject: string): boolean {
  return subject.endsWith(".agent.rejected");
}
