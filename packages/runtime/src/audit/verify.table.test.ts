// The audit chain and its verification, table-tested without NATS: a trail built the way the
// coordinator builds it, then altered the ways an attacker with admin rights could.

import { generateKeyPairSync } from "node:crypto";
import { createEvent, encodeEvent } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import {
  buildCheckpoint,
  CHECKPOINT_SUBJECT,
  type ChainHead,
  type CheckpointData,
  genesisHead,
  headAfter,
  type StoredMessage,
  signCheckpoint,
} from "./chain.ts";
import { exportHeader, exportLine, parseExport } from "./export.ts";
import { type AuditProblemKind, verifyTrail } from "./verify.ts";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const other = generateKeyPairSync("ed25519");

const eventMessage = (seq: number, n: number): StoredMessage => {
  const id = `ev-${n}`;
  const event = createEvent("freeze.set", {
    service: "emily",
    source: "bluegreen/cli/test",
    id,
    time: new Date(Date.UTC(2026, 11, 1, 0, 0, n)),
    data: { scope: "service", by: "alice@ops-1", reason: `reason ${n}` },
  });
  return { seq, subject: "bluegreen.emily.freeze.set", msgId: id, payload: encodeEvent(event) };
};

const checkpointMessage = (seq: number, data: CheckpointData): StoredMessage => {
  const id = `ckpt-${data.firstSeq}-${data.lastSeq}`;
  const event = createEvent("audit.checkpoint", {
    service: "_",
    source: "bluegreen/coordinator/c1",
    id,
    data,
  });
  return { seq, subject: CHECKPOINT_SUBJECT, msgId: id, payload: encodeEvent(event) };
};

/**
 * `events` events, a checkpoint after every `every` messages not yet covered (checkpoints
 * included, as the coordinator does), and `tail` events after the last checkpoint.
 */
function trail(events: number, every: number, tail = 0, key = privateKey): StoredMessage[] {
  const out: StoredMessage[] = [];
  let head: ChainHead = genesisHead(1);
  let n = 0;
  while (n < events) {
    out.push(eventMessage(out.length + 1, n++));
    if (out.length - head.nextSeq + 1 >= every || n === events) {
      const data = buildCheckpoint(head, out.slice(head.nextSeq - 1), key);
      head = headAfter(data);
      out.push(checkpointMessage(out.length + 1, data));
    }
  }
  for (let i = 0; i < tail; i++) out.push(eventMessage(out.length + 1, n++));
  return out;
}

const at = (seq: number, msgs: StoredMessage[]) => msgs.find((m) => m.seq === seq) as StoredMessage;
const withPayload = (m: StoredMessage, from: StoredMessage): StoredMessage => ({
  ...m,
  subject: from.subject,
  msgId: from.msgId,
  payload: from.payload,
});

type Case = {
  name: string;
  edit: (t: StoredMessage[]) => StoredMessage[];
  problems: [AuditProblemKind, number][];
  warnings?: RegExp[];
  begins?: number;
};

// The base trail: 10 events, a checkpoint once 4 messages are not covered: #0 over 1-4 stored
// at seq 5, #1 over 5-8 at 9, #2 over 9-12 at 13; the events ev-0..ev-9 at seqs 1-4, 6-8, 10-12.
const CASES: Case[] = [
  { name: "an untouched trail", edit: (t) => t, problems: [], begins: 1 },
  {
    name: "events after the last checkpoint (a warning)",
    edit: (t) => [...t, eventMessage(14, 90), eventMessage(15, 91)],
    problems: [],
    warnings: [/2 event\(s\) after seq 12 are not covered/],
  },
  {
    name: "an altered payload",
    edit: (t) =>
      t.map((m) =>
        m.seq === 3
          ? {
              ...m,
              payload: Buffer.from(
                Buffer.from(m.payload).toString().replace("reason 2", "reason X"),
              ),
            }
          : m,
      ),
    problems: [["altered", 3]],
  },
  {
    name: "an altered Nats-Msg-Id",
    edit: (t) => t.map((m) => (m.seq === 7 ? { ...m, msgId: "other" } : m)),
    problems: [["altered", 7]],
  },
  {
    name: "a deleted event (a gap)",
    edit: (t) => t.filter((m) => m.seq !== 6),
    problems: [["missing", 6]],
  },
  {
    name: "a deleted event in the uncovered tail",
    edit: (t) => [...t, eventMessage(14, 90), eventMessage(16, 92)],
    problems: [["missing", 15]],
    warnings: [/not covered/],
  },
  {
    name: "two events swapped in place",
    edit: (t) =>
      t.map((m) =>
        m.seq === 2 ? withPayload(m, at(3, t)) : m.seq === 3 ? withPayload(m, at(2, t)) : m,
      ),
    problems: [
      ["reordered", 2],
      ["reordered", 3],
    ],
  },
  {
    name: "an event moved into another checkpoint's range",
    edit: (t) =>
      t.map((m) =>
        m.seq === 2 ? withPayload(m, at(11, t)) : m.seq === 11 ? withPayload(m, at(2, t)) : m,
      ),
    problems: [
      ["reordered", 2],
      ["reordered", 11],
    ],
  },
  {
    name: "lines out of order in an export",
    edit: (t) => [at(1, t), at(3, t), at(2, t), ...t.filter((m) => m.seq > 3)],
    problems: [["reordered", 2]],
  },
  {
    name: "an event deleted and the rest republished (everything after it moved down)",
    edit: (t) => {
      const kept = t.filter((m) => m.seq !== 2);
      return kept.map((m, i) => ({ ...m, seq: i + 1 }));
    },
    problems: [
      ["missing", 2],
      ["reordered", 2],
      ["checkpoint_chain", 4],
      ["reordered", 5],
      ["checkpoint_chain", 8],
      ["reordered", 9],
      ["checkpoint_chain", 12],
      ["altered", 12],
    ],
  },
  {
    name: "two messages with one sequence",
    edit: (t) => [...t.slice(0, 3), { ...at(3, t), msgId: "x" }, ...t.slice(3)],
    problems: [["duplicate", 3]],
  },
  {
    name: "a checkpoint signed by another key",
    edit: (t) => {
      const cp = JSON.parse(Buffer.from(at(9, t).payload).toString()) as { data: CheckpointData };
      const forged = buildCheckpoint(
        { index: 1, nextSeq: 5, chain: cp.data.prevChain, prevCheckpoint: cp.data.prevCheckpoint },
        t.slice(4, 8),
        other.privateKey,
      );
      return t.map((m) => (m.seq === 9 ? checkpointMessage(9, forged) : m));
    },
    // #1 is not trusted: #2 no longer follows a trusted one, and signed other content at 9.
    problems: [
      ["checkpoint_invalid", 9],
      ["altered", 9],
      ["checkpoint_chain", 13],
    ],
  },
  {
    name: "a checkpoint whose content was changed after signing",
    edit: (t) =>
      t.map((m) =>
        m.seq === 9
          ? {
              ...m,
              payload: Buffer.from(
                Buffer.from(m.payload).toString().replace('"index":1', '"index":7'),
              ),
            }
          : m,
      ),
    problems: [
      ["checkpoint_invalid", 9],
      ["altered", 9],
      ["checkpoint_chain", 13],
    ],
  },
  {
    name: "a checkpoint deleted",
    edit: (t) => t.filter((m) => m.seq !== 9),
    problems: [
      ["missing", 9],
      ["checkpoint_chain", 13],
    ],
  },
  {
    name: "the oldest events aged out (the trail begins at the next checkpoint)",
    edit: (t) => t.filter((m) => m.seq >= 5),
    problems: [],
    begins: 5,
    warnings: [],
  },
  {
    name: "aged out in the middle of a range",
    edit: (t) => t.filter((m) => m.seq >= 3),
    problems: [],
    begins: 5,
    warnings: [/2 message\(s\) before seq 5 are before the trail begins/],
  },
  {
    name: "no checkpoint at all",
    edit: (t) => t.filter((m) => m.subject !== CHECKPOINT_SUBJECT),
    problems: [["no_checkpoint", 1]],
  },
];

describe("verifyTrail", () => {
  it.each(CASES)("$name", ({ edit, problems, warnings, begins }) => {
    const report = verifyTrail(edit(trail(10, 4)), publicKey);
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual(
      [...problems].sort((a, b) => a[1] - b[1]),
    );
    expect(report.ok).toBe(problems.length === 0);
    if (warnings !== undefined) {
      expect(report.warnings).toHaveLength(warnings.length);
      warnings.forEach((w, i) => {
        expect(report.warnings[i]).toMatch(w);
      });
    }
    if (begins !== undefined) expect(report.begins?.seq).toBe(begins);
  });

  it("names a run of moved events once, with its offset", () => {
    const t = trail(10, 4);
    const kept = t.filter((m) => m.seq !== 2).map((m, i) => ({ ...m, seq: i + 1 }));
    const moved = verifyTrail(kept, publicKey).problems.find((p) => p.kind === "reordered");
    expect(moved).toMatchObject({
      seq: 2,
      toSeq: 4,
      message: expect.stringMatching(/moved by -1/),
    });
  });

  it("checks the signature against the given key only", () => {
    const report = verifyTrail(trail(3, 4), other.publicKey);
    expect(report.problems.map((p) => p.kind)).toEqual(["checkpoint_invalid", "no_checkpoint"]);
  });

  it("a forged huge sequence or stream last sequence costs nothing: gaps come from what is present", () => {
    const t = trail(3, 4, 2);
    const far = 9e15;
    const started = performance.now();
    const report = verifyTrail([...t, { ...eventMessage(far, 99) }], publicKey, {
      lastSeq: far + 5,
    });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(report.problems.map((p) => [p.kind, p.seq, p.toSeq])).toEqual([
      ["missing", 7, far - 1],
      ["missing", far + 1, far + 5],
    ]);
    // Single holes have no toSeq; holes among several present messages are each named.
    const holes = verifyTrail(
      trail(3, 4, 3).filter((m) => m.seq !== 6),
      publicKey,
      { lastSeq: 9 },
    ).problems;
    expect(holes.map((p) => [p.seq, p.toSeq])).toEqual([
      [6, undefined],
      [8, 9],
    ]);
  });

  it("across a key rotation: a new chain of the new key re-covers the trail; both keys verify it", () => {
    const t = trail(10, 4);
    const renewed = buildCheckpoint(genesisHead(1), t, other.privateKey);
    const rotated = [
      ...t,
      checkpointMessage(t.length + 1, renewed),
      eventMessage(t.length + 2, 50),
    ];
    const both = verifyTrail(rotated, [publicKey, other.publicKey]);
    expect(both.problems).toEqual([]);
    expect(both.checkpoints).toBe(4);
    expect(both.coveredTo).toBe(t.length);
    // One key at a time: the other key's checkpoints are not its own.
    expect(verifyTrail(rotated, other.publicKey).problems.map((p) => [p.kind, p.seq])).toEqual([
      ["checkpoint_invalid", 5],
      ["checkpoint_invalid", 9],
      ["checkpoint_invalid", 13],
    ]);
    // A new chain that leaves sequences uncovered after the previous one is a problem.
    const late = buildCheckpoint(
      genesisHead(t.length + 2),
      [eventMessage(t.length + 2, 50)],
      other.privateKey,
    );
    const holed = [
      ...t,
      eventMessage(t.length + 1, 49),
      eventMessage(t.length + 2, 50),
      checkpointMessage(t.length + 3, late),
    ];
    expect(
      verifyTrail(holed, [publicKey, other.publicKey]).problems.map((p) => [p.kind, p.seq]),
    ).toEqual([["checkpoint_chain", t.length + 3]]);
  });

  it("a checkpoint lying about its chain hash (signed by the key holder) does not match", () => {
    const t = trail(3, 4);
    const honest = buildCheckpoint(genesisHead(1), t.slice(0, 3), privateKey);
    // Deterministic: ed25519 and canonical JSON sign the same checkpoint alike.
    expect(honest).toEqual(JSON.parse(Buffer.from(at(4, t).payload).toString()).data);
    const { signature: _s, ...body } = honest;
    const lying = signCheckpoint({ ...body, chain: "1".repeat(64) }, privateKey);
    const report = verifyTrail(
      t.map((m) => (m.seq === 4 ? checkpointMessage(4, lying) : m)),
      publicKey,
    );
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([["checkpoint_mismatch", 4]]);
  });
});

describe("buildCheckpoint", () => {
  it("refuses a range with a gap or out of order", () => {
    const t = trail(3, 10);
    expect(() => buildCheckpoint(genesisHead(1), [at(1, t), at(3, t)], privateKey)).toThrow(
      /broken at seq 3/,
    );
    expect(() => buildCheckpoint(genesisHead(2), [at(1, t)], privateKey)).toThrow(/broken/);
  });

  it("chains: each checkpoint starts where the previous ended, from its chain and hash", () => {
    const t = trail(10, 4);
    const cps = t
      .filter((m) => m.subject === CHECKPOINT_SUBJECT)
      .map((m) => (JSON.parse(Buffer.from(m.payload).toString()) as { data: CheckpointData }).data);
    expect(cps.map((c) => [c.index, c.firstSeq, c.lastSeq])).toEqual([
      [0, 1, 4],
      [1, 5, 8],
      [2, 9, 12],
    ]);
    for (let i = 1; i < cps.length; i++) {
      const head = headAfter(cps[i - 1] as CheckpointData);
      expect(cps[i]).toMatchObject({ prevChain: head.chain, prevCheckpoint: head.prevCheckpoint });
    }
  });
});

describe("the export", () => {
  it("round-trips every message, a binary payload included, and verifies the same", () => {
    const t = [...trail(5, 4)];
    const binary = {
      seq: t.length + 1,
      subject: "bluegreen.x.y.z",
      msgId: "",
      payload: new Uint8Array([0xff, 0, 1]),
    };
    const all = [...t, binary];
    const text = [
      JSON.stringify(exportHeader({ firstSeq: 1, lastSeq: all.length }, new Date(0))),
      ...all.map(exportLine),
    ].join("\n");
    const parsed = parseExport(text, "x.jsonl");
    expect(
      parsed.messages.map((m) => [
        m.seq,
        m.subject,
        m.msgId,
        Buffer.from(m.payload).toString("hex"),
      ]),
    ).toEqual(all.map((m) => [m.seq, m.subject, m.msgId, Buffer.from(m.payload).toString("hex")]));
    expect(verifyTrail(parsed.messages, publicKey).problems).toEqual(
      verifyTrail(all, publicKey).problems,
    );
  });

  it("refuses a file that is not an export, naming the line", () => {
    expect(() => parseExport("hello\n", "x")).toThrow(/line 1/);
    const header = JSON.stringify(exportHeader({ firstSeq: 1, lastSeq: 1 }, new Date(0)));
    expect(() => parseExport(`${header}\n{"seq":0}\n`, "x")).toThrow(/line 2: seq/);
  });
});
