// The export format of `bluegreen audit export`, pure: JSON lines, a header and then one stream
// message per line (checkpoints included, they are stream messages), enough to recompute the
// chain years later without NATS. `audit verify --export` reads it back.

import { BgError, STREAM_NAME } from "@bluegreen/contracts";
import type { StoredMessage } from "./chain.ts";

export const EXPORT_FORMAT = "bluegreen-audit-export";
export const EXPORT_VERSION = 1;

export interface ExportHeader {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: number;
  readonly stream: string;
  /** When the export was written (ISO). */
  readonly exportedAt: string;
  /** The stream's first and last sequence then. */
  readonly streamFirstSeq: number;
  readonly streamLastSeq: number;
}

/** One message: the payload as text when it is UTF-8, as base64 otherwise. */
interface ExportLine {
  seq: number;
  subject: string;
  msgId: string;
  time?: string;
  payload?: string;
  payloadBase64?: string;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

export function exportHeader(
  stream: { firstSeq: number; lastSeq: number },
  now: Date,
): ExportHeader {
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    stream: STREAM_NAME,
    exportedAt: now.toISOString(),
    streamFirstSeq: stream.firstSeq,
    streamLastSeq: stream.lastSeq,
  };
}

/** One line of the export (no newline). */
export function exportLine(m: StoredMessage): string {
  const line: ExportLine = { seq: m.seq, subject: m.subject, msgId: m.msgId };
  if (m.time !== undefined) line.time = m.time;
  let text: string | undefined;
  try {
    text = decoder.decode(m.payload);
  } catch {
    text = undefined;
  }
  if (text !== undefined && Buffer.from(text).equals(Buffer.from(m.payload))) line.payload = text;
  else line.payloadBase64 = Buffer.from(m.payload).toString("base64");
  return JSON.stringify(line);
}

export interface ParsedExport {
  readonly header: ExportHeader;
  /** In the order of the file (verify reports one that is out of order). */
  readonly messages: StoredMessage[];
}

/** Reads an export back; a line that is not a message fails with BG_ERR_AUDIT_EXPORT_INVALID. */
export function parseExport(text: string, file: string): ParsedExport {
  const lines = text.split("\n");
  const fail = (line: number, reason: string) =>
    new BgError("BG_ERR_AUDIT_EXPORT_INVALID", { file, line, reason });
  const json = (i: number): Record<string, unknown> => {
    try {
      const v = JSON.parse(lines[i] as string) as unknown;
      if (typeof v === "object" && v !== null && !Array.isArray(v))
        return v as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw fail(i + 1, "not a JSON object");
  };
  if ((lines[0] ?? "").trim() === "") throw fail(1, "empty: no header");
  const header = json(0);
  if (header.format !== EXPORT_FORMAT || header.version !== EXPORT_VERSION)
    throw fail(1, `the header is not ${EXPORT_FORMAT} version ${EXPORT_VERSION}`);
  const messages: StoredMessage[] = [];
  for (let i = 1; i < lines.length; i++) {
    if ((lines[i] ?? "").trim() === "") continue;
    const l = json(i);
    const { seq, subject, msgId, time, payload, payloadBase64 } = l;
    if (!Number.isSafeInteger(seq) || (seq as number) < 1)
      throw fail(i + 1, "seq must be a positive integer");
    if (typeof subject !== "string" || typeof msgId !== "string")
      throw fail(i + 1, "subject and msgId must be strings");
    const bytes =
      typeof payload === "string"
        ? Buffer.from(payload)
        : typeof payloadBase64 === "string"
          ? Buffer.from(payloadBase64, "base64")
          : undefined;
    if (bytes === undefined) throw fail(i + 1, "payload (or payloadBase64) is missing");
    messages.push({
      seq: seq as number,
      subject,
      msgId,
      payload: new Uint8Array(bytes),
      ...(typeof time === "string" ? { time } : {}),
    });
  }
  return { header: header as unknown as ExportHeader, messages };
}
