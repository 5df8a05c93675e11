import { z } from "zod";
import { defineEvent } from "./define.ts";

/** The most events one checkpoint covers (its `digests` stay well under the event size limit). */
export const MAX_CHECKPOINT_EVENTS = 2000;
/** Bytes of each event's short content digest in a checkpoint's `digests`. */
export const CHECKPOINT_DIGEST_BYTES = 8;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lower-case hex digits");
const base64 = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, "expected base64");
const seq = z.int().min(1);

export const auditCheckpoint = defineEvent({
  name: "audit.checkpoint",
  description:
    "The leading coordinator signed the audit trail up to a stream sequence: a hash chain over every message of the stream `BLUEGREEN` in sequence order, from `firstSeq` to `lastSeq` (checkpoints included, so each checkpoint is covered by the next one). Each link is sha256(previous link ‖ seq ‖ subject ‖ Nats-Msg-Id ‖ sha256(payload)); `chain` is the link at `lastSeq`, `prevChain` the one before `firstSeq` (the previous checkpoint's `chain`; zeros at the start), `prevCheckpoint` the sha256 of the previous checkpoint's canonical data, `digests` one short content digest per event (to name an altered, missing or moved event), and `signature` an ed25519 signature over the canonical JSON of the other fields. Subject `_`. `bluegreen audit verify` checks them; see docs/audit.md.",
  route: "coordinator → auditors (`bluegreen audit verify`)",
  deploymentId: "none",
  data: () =>
    z
      .strictObject({
        /** 0 for the first checkpoint of the stream, then one more each time. */
        index: z.int().min(0),
        firstSeq: seq,
        lastSeq: seq,
        count: z.int().min(1).max(MAX_CHECKPOINT_EVENTS),
        chain: hex64,
        prevChain: hex64,
        prevCheckpoint: hex64,
        digests: base64(Math.ceil((MAX_CHECKPOINT_EVENTS * CHECKPOINT_DIGEST_BYTES) / 3) * 4),
        alg: z.literal("ed25519"),
        keyId: z.string().regex(/^[0-9a-f]{16}$/, "expected 16 lower-case hex digits"),
        signature: base64(128),
      })
      .refine((d) => d.lastSeq - d.firstSeq + 1 === d.count, {
        message: "count must be lastSeq - firstSeq + 1",
        path: ["count"],
      }),
  example: {
    index: 3,
    firstSeq: 1201,
    lastSeq: 1202,
    count: 2,
    chain: "9f2c4e0b7a1d3f5e6c8b0a2d4f6e8c0b1a3d5f7e9c1b3a5d7f9e1c3b5a7d9f1e",
    prevChain: "3b5a7d9f1e9f2c4e0b7a1d3f5e6c8b0a2d4f6e8c0b1a3d5f7e9c1b3a5d7f9e1c",
    prevCheckpoint: "0b7a1d3f5e6c8b0a2d4f6e8c0b1a3d5f7e9c1b3a5d7f9e1c3b5a7d9f1e9f2c4e",
    digests: "q83vEjRWeJASNFZ4kKvN7w==",
    alg: "ed25519",
    keyId: "5d1c9a7e3b2f4a60",
    signature:
      "KUE4s38zitGJPMdPk5OkFrEj1ZhUL3bLFgnLHc0jkmqMX8FBHzmTecf2rNkYPgOTTrrtbPT7XtouSuJ4EE7kMQ==",
  },
});
