// Which last checkpoint a coordinator follows when it takes over, table-tested without NATS:
// only one its own key signed, over a range before its own sequence and within the stream.

import { generateKeyPairSync } from "node:crypto";
import { createEvent, NO_SERVICE } from "@bluegreen/contracts";
import {
  buildCheckpoint,
  CHECKPOINT_SUBJECT,
  type CheckpointData,
  genesisHead,
  type StoredMessage,
} from "@bluegreen/runtime";
import { describe, expect, it } from "vitest";
import { judgeCheckpoint } from "./checkpoints.ts";

const key = generateKeyPairSync("ed25519").privateKey;
const other = generateKeyPairSync("ed25519").privateKey;

const events: StoredMessage[] = [1, 2, 3].map((seq) => ({
  seq,
  subject: "bluegreen.emily.freeze.set",
  msgId: `ev-${seq}`,
  payload: new TextEncoder().encode(`event ${seq}`),
}));

const honest = buildCheckpoint(genesisHead(1), events, key);
const foreign = buildCheckpoint(genesisHead(1), events, other);
const altered: CheckpointData = { ...honest, chain: "1".repeat(64) };
const huge: CheckpointData = { ...honest, firstSeq: 9e15 - 2, lastSeq: 9e15 };

/** A checkpoint message; its data put in after validation, as a forger would. */
const stored = (seq: number, data: CheckpointData | string): StoredMessage => {
  const event = createEvent("audit.checkpoint", {
    service: NO_SERVICE,
    source: "bluegreen/coordinator/c1",
    data: honest,
  });
  return {
    seq,
    subject: CHECKPOINT_SUBJECT,
    msgId: `ckpt-${seq}`,
    payload:
      typeof data === "string"
        ? new TextEncoder().encode(data)
        : new TextEncoder().encode(JSON.stringify({ ...event, data })),
  };
};

describe("judgeCheckpoint", () => {
  it.each([
    ["its own key's checkpoint, stored after its range", stored(4, honest), 10, null],
    ["unreadable", stored(4, "not json"), 10, /unreadable/],
    ["another key's (a rotation, or forged)", stored(4, foreign), 10, /signed by key .*not this/],
    ["this key's id, not its signature", stored(4, altered), 10, /not its signature/],
    ["a forged huge range", stored(4, huge), 10, /not its signature/],
    ["stored inside its own range", stored(3, honest), 10, /past its own seq 3/],
    ["covering past the stream's last sequence", stored(4, honest), 2, /stream's last 2/],
  ])("%s", (_name, msg, streamLastSeq, refused) => {
    const judged = judgeCheckpoint(msg, key, streamLastSeq);
    if (refused === null) expect(judged).toEqual({ ok: true, data: honest });
    else expect(judged.ok ? "followed" : judged.reason).toMatch(refused);
  });
});
