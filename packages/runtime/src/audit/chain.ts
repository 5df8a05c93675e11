// The audit chain, pure: how a stream message is hashed into the chain, how a checkpoint over a
// range of sequences is built, signed and hashed. Shared by the coordinator (which signs) and
// `bluegreen audit verify` (which checks); no I/O beyond computing (node:crypto). docs/audit.md.

import { createHash, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import {
  CHECKPOINT_DIGEST_BYTES,
  type EventData,
  eventSubject,
  MAX_CHECKPOINT_EVENTS,
  NO_SERVICE,
} from "@bluegreen/contracts";

/** One message of the stream as stored: what the chain covers. */
export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  /** The `Nats-Msg-Id` header ("" when the message had none). */
  readonly msgId: string;
  readonly payload: Uint8Array;
  /** When the stream stored it (ISO); not covered by the chain. */
  readonly time?: string;
}

export type CheckpointData = EventData<"audit.checkpoint">;
/** A checkpoint before it is signed. */
export type CheckpointBody = Omit<CheckpointData, "signature">;

/** Where the checkpoints travel: `bluegreen._.audit.checkpoint`. */
export const CHECKPOINT_SUBJECT = eventSubject(NO_SERVICE, "audit.checkpoint");
/** The link before the first message of the trail, and the "previous checkpoint" of the first. */
export const GENESIS = "0".repeat(64);
/** Prefixed to what is signed, so a checkpoint signature can never be replayed as another. */
const SIGNING_CONTEXT = "bluegreen audit checkpoint v1\n";

const encoder = new TextEncoder();
const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};

function u64(n: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** A string with its length in front, so no two (subject, id) pairs hash alike. */
function sized(text: string): Uint8Array {
  const bytes = encoder.encode(text);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.byteLength);
  return Buffer.concat([len, bytes]);
}

/** The next link: sha256(previous link ‖ seq ‖ subject ‖ Nats-Msg-Id ‖ sha256(payload)). */
export function nextLink(prev: string, msg: StoredMessage): string {
  return sha256(
    Buffer.from(prev, "hex"),
    u64(msg.seq),
    sized(msg.subject),
    sized(msg.msgId),
    sha256(msg.payload),
  ).toString("hex");
}

/** The link after `messages` (in sequence order), starting from `prev`. */
export function chainOver(prev: string, messages: readonly StoredMessage[]): string {
  let link = prev;
  for (const m of messages) link = nextLink(link, m);
  return link;
}

/**
 * A message's short content digest, without its sequence: what lets `verify` tell an altered
 * event (its content is expected nowhere) from a moved one (its content belongs elsewhere).
 */
export function contentDigest(msg: Pick<StoredMessage, "subject" | "msgId" | "payload">): string {
  return sha256(sized(msg.subject), sized(msg.msgId), sha256(msg.payload))
    .subarray(0, CHECKPOINT_DIGEST_BYTES)
    .toString("hex");
}

/** The content digests a checkpoint carries, one per sequence of its range, hex each. */
export function digestsOf(data: Pick<CheckpointData, "digests">): string[] {
  const bytes = Buffer.from(data.digests, "base64");
  const out: string[] = [];
  for (let i = 0; i + CHECKPOINT_DIGEST_BYTES <= bytes.byteLength; i += CHECKPOINT_DIGEST_BYTES)
    out.push(bytes.subarray(i, i + CHECKPOINT_DIGEST_BYTES).toString("hex"));
  return out;
}

/** JSON with keys sorted at every level and no spaces: what is signed and hashed. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A public key's id: the first 16 hex digits of sha256 over its SPKI DER. */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return createHash("sha256")
    .update(pub.export({ type: "spki", format: "der" }))
    .digest("hex")
    .slice(0, 16);
}

/** sha256 over a checkpoint's canonical JSON (signature included): the next one's `prevCheckpoint`. */
export function checkpointHash(data: CheckpointData): string {
  return createHash("sha256").update(canonicalJson(data)).digest("hex");
}

function signedBytes(body: CheckpointBody): Buffer {
  const { signature: _drop, ...rest } = body as CheckpointData;
  return Buffer.from(SIGNING_CONTEXT + canonicalJson(rest));
}

/** Where the chain stands after a checkpoint: what the next checkpoint follows. */
export interface ChainHead {
  /** The next checkpoint's index. */
  readonly index: number;
  /** The first sequence not covered yet. */
  readonly nextSeq: number;
  readonly chain: string;
  readonly prevCheckpoint: string;
}

/** The head of a trail with no checkpoint yet, starting at `firstSeq`. */
export function genesisHead(firstSeq: number): ChainHead {
  return { index: 0, nextSeq: firstSeq, chain: GENESIS, prevCheckpoint: GENESIS };
}

/** The head after `data`. */
export function headAfter(data: CheckpointData): ChainHead {
  return {
    index: data.index + 1,
    nextSeq: data.lastSeq + 1,
    chain: data.chain,
    prevCheckpoint: checkpointHash(data),
  };
}

/**
 * The signed checkpoint over `messages`, which must be the stream's messages from
 * `head.nextSeq` on, without a gap, at most MAX_CHECKPOINT_EVENTS of them.
 */
export function buildCheckpoint(
  head: ChainHead,
  messages: readonly StoredMessage[],
  key: KeyObject,
): CheckpointData {
  if (messages.length === 0 || messages.length > MAX_CHECKPOINT_EVENTS)
    throw new Error(`a checkpoint covers 1..${MAX_CHECKPOINT_EVENTS} messages`);
  messages.forEach((m, i) => {
    if (m.seq !== head.nextSeq + i)
      throw new Error(`checkpoint range broken at seq ${m.seq} (expected ${head.nextSeq + i})`);
  });
  const first = messages[0] as StoredMessage;
  const last = messages[messages.length - 1] as StoredMessage;
  const body: CheckpointBody = {
    index: head.index,
    firstSeq: first.seq,
    lastSeq: last.seq,
    count: messages.length,
    chain: chainOver(head.chain, messages),
    prevChain: head.chain,
    prevCheckpoint: head.prevCheckpoint,
    digests: Buffer.from(messages.map(contentDigest).join(""), "hex").toString("base64"),
    alg: "ed25519",
    keyId: keyIdOf(key),
  };
  return signCheckpoint(body, key);
}

/** The body with its ed25519 signature over the canonical JSON. */
export function signCheckpoint(body: CheckpointBody, key: KeyObject): CheckpointData {
  return { ...body, signature: sign(null, signedBytes(body), key).toString("base64") };
}

/** Whether `data` carries a valid signature by `publicKey`. */
export function signatureValid(data: CheckpointData, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedBytes(data), publicKey, Buffer.from(data.signature, "base64"));
  } catch {
    return false;
  }
}
