// Verifying an audit trail, pure: the stream's messages (or an export's) and the public key in,
// every problem with its sequence out. `bluegreen audit verify` prints what this finds.
// docs/audit.md says what it proves and what it does not.

import type { KeyObject } from "node:crypto";
import { parseEvent } from "@bluegreen/contracts";
import {
  CHECKPOINT_SUBJECT,
  type CheckpointData,
  checkpointHash,
  contentDigest,
  digestsOf,
  GENESIS,
  keyIdOf,
  nextLink,
  type StoredMessage,
  signatureValid,
} from "./chain.ts";

export type AuditProblemKind =
  /** No message at a sequence that should hold one (a gap). */
  | "missing"
  /** A message whose content its checkpoint does not know: changed, or put in its place. */
  | "altered"
  /** Messages whose content belongs at other sequences (or out of order in an export). */
  | "reordered"
  /** Two messages with the same sequence (an export). */
  | "duplicate"
  /** A checkpoint whose range does not recompute to its chain hash (nothing more precise found). */
  | "checkpoint_mismatch"
  /** A checkpoint that cannot be read, or whose signature is not the given key's. */
  | "checkpoint_invalid"
  /** Checkpoints that do not follow each other (index, range, chain or hash). */
  | "checkpoint_chain"
  /** No valid checkpoint at all: nothing could be checked. */
  | "no_checkpoint";

export interface AuditProblem {
  readonly kind: AuditProblemKind;
  /** The sequence concerned (the first of a run, the checkpoint's own for checkpoint problems). */
  readonly seq: number;
  /** The last sequence of a run of the same problem. */
  readonly toSeq?: number;
  readonly message: string;
}

export interface AuditReport {
  /** True when no problem was found (warnings allowed). */
  readonly ok: boolean;
  readonly problems: readonly AuditProblem[];
  /** Not failures: events not covered yet, events before the trail begins. */
  readonly warnings: readonly string[];
  /** Where the checked trail begins: the first sequence of the first checkpoint checked. */
  readonly begins?: { readonly seq: number; readonly checkpoint: number };
  /** The last sequence covered by a valid checkpoint. */
  readonly coveredTo?: number;
  readonly checkpoints: number;
  /** Messages read. */
  readonly messages: number;
}

export interface VerifyOptions {
  /** The stream's last sequence when it was read: a missing tail is a gap too. */
  readonly lastSeq?: number;
}

interface Checkpoint {
  readonly seq: number;
  readonly data: CheckpointData;
}

const range = (p: { seq: number; toSeq?: number }) =>
  p.toSeq === undefined || p.toSeq === p.seq ? `seq ${p.seq}` : `seq ${p.seq}..${p.toSeq}`;

/** One line per problem: `seq 42 altered: …`. */
export function formatProblem(p: AuditProblem): string {
  return `${range(p)} ${p.kind}: ${p.message}`;
}

/** Messages in sequence order, one per sequence; what was out of order or doubled, as problems. */
function ordered(input: readonly StoredMessage[], problems: AuditProblem[]): StoredMessage[] {
  const bySeq = new Map<number, StoredMessage>();
  let highest = 0;
  for (const m of input) {
    if (bySeq.has(m.seq)) {
      problems.push({ kind: "duplicate", seq: m.seq, message: "two messages carry this sequence" });
      continue;
    }
    if (m.seq < highest)
      problems.push({
        kind: "reordered",
        seq: m.seq,
        message: `comes after seq ${highest} in the trail`,
      });
    highest = Math.max(highest, m.seq);
    bySeq.set(m.seq, m);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** The checkpoints signed by one of `publicKeys`; unreadable or foreign ones as problems. */
function checkpointsOf(
  messages: readonly StoredMessage[],
  publicKeys: readonly KeyObject[],
  problems: AuditProblem[],
): Checkpoint[] {
  const keys = new Map(publicKeys.map((k) => [keyIdOf(k), k]));
  const keyId = [...keys.keys()].join(", ");
  const out: Checkpoint[] = [];
  for (const m of messages) {
    if (m.subject !== CHECKPOINT_SUBJECT) continue;
    const parsed = parseEvent(m.payload, { subject: m.subject, expect: ["audit.checkpoint"] });
    if (!parsed.ok) {
      problems.push({
        kind: "checkpoint_invalid",
        seq: m.seq,
        message: `not a readable checkpoint: ${parsed.error.message}`,
      });
      continue;
    }
    const data = parsed.event.data as CheckpointData;
    const key = keys.get(data.keyId);
    if (key === undefined || !signatureValid(data, key)) {
      problems.push({
        kind: "checkpoint_invalid",
        seq: m.seq,
        message:
          key === undefined
            ? `signed by key ${data.keyId}, not by the given key ${keyId}`
            : `checkpoint #${data.index} (seq ${data.firstSeq}..${data.lastSeq}): the signature does not match its content`,
      });
      continue;
    }
    // Authentic but misplaced (the stream was rebuilt without its gaps): still the reference
    // for its range, which then names what moved.
    if (m.seq <= data.lastSeq)
      problems.push({
        kind: "checkpoint_chain",
        seq: m.seq,
        message: `checkpoint #${data.index} is stored inside its own range ${data.firstSeq}..${data.lastSeq}`,
      });
    out.push({ seq: m.seq, data });
  }
  return out;
}

/** A checkpoint that starts a new chain: index 0, nothing before it. */
const startsChain = (data: CheckpointData) =>
  data.index === 0 && data.prevChain === GENESIS && data.prevCheckpoint === GENESIS;

/**
 * Consecutive checkpoints must follow each other: index, range, chain and hash. A new chain
 * (the coordinator's, after a key rotation or a refused checkpoint) may begin instead, as long
 * as it leaves no sequence uncovered: it starts at or before the previous one's end + 1.
 */
function checkLinks(cps: readonly Checkpoint[], problems: AuditProblem[]): void {
  for (let i = 1; i < cps.length; i++) {
    const prev = (cps[i - 1] as Checkpoint).data;
    const { seq, data } = cps[i] as Checkpoint;
    if (startsChain(data)) {
      if (data.firstSeq > prev.lastSeq + 1)
        problems.push({
          kind: "checkpoint_chain",
          seq,
          message: `checkpoint #0 of a new chain starts at seq ${data.firstSeq}: seq ${prev.lastSeq + 1}..${data.firstSeq - 1} after #${prev.index} are covered by no checkpoint`,
        });
      continue;
    }
    const wrong: string[] = [];
    if (data.index !== prev.index + 1) wrong.push(`index ${data.index} after #${prev.index}`);
    if (data.firstSeq !== prev.lastSeq + 1)
      wrong.push(`starts at seq ${data.firstSeq}, the previous one ended at ${prev.lastSeq}`);
    if (data.prevChain !== prev.chain) wrong.push("prevChain is not the previous chain hash");
    if (data.prevCheckpoint !== checkpointHash(prev))
      wrong.push("prevCheckpoint is not the previous checkpoint's hash");
    if (wrong.length > 0)
      problems.push({
        kind: "checkpoint_chain",
        seq,
        message: `checkpoint #${data.index} does not follow #${prev.index}: ${wrong.join("; ")}`,
      });
  }
}

interface Moved {
  seq: number;
  belongs: number;
}

/** Runs of moved messages with the same offset, as one problem each. */
function movedRuns(moved: readonly Moved[]): AuditProblem[] {
  const out: AuditProblem[] = [];
  let run: Moved[] = [];
  const flush = () => {
    const first = run[0];
    const last = run[run.length - 1];
    if (first === undefined || last === undefined) return;
    const where =
      run.length === 1
        ? `seq ${first.belongs}`
        : `seq ${first.belongs}..${last.belongs} (moved by ${first.seq - first.belongs})`;
    out.push({
      kind: "reordered",
      seq: first.seq,
      ...(run.length > 1 ? { toSeq: last.seq } : {}),
      message: `${run.length === 1 ? "this event belongs" : "these events belong"} at ${where}`,
    });
    run = [];
  };
  for (const m of moved) {
    const prev = run[run.length - 1];
    if (prev && !(m.seq === prev.seq + 1 && m.belongs - m.seq === prev.belongs - prev.seq)) flush();
    run.push(m);
  }
  flush();
  return out;
}

/**
 * Checks one checkpoint's range against the messages present: recomputes the chain from the
 * signed `prevChain`; when it differs, names each sequence that is missing, altered or moved.
 */
function checkRange(
  cp: Checkpoint,
  bySeq: ReadonlyMap<number, StoredMessage>,
  expectedAt: ReadonlyMap<string, readonly number[]>,
  presentDigests: ReadonlySet<string>,
  problems: AuditProblem[],
): void {
  const { data } = cp;
  const expected = digestsOf(data);
  let link: string | undefined = data.prevChain;
  for (let s = data.firstSeq; s <= data.lastSeq; s++) {
    const m = bySeq.get(s);
    link = m === undefined || link === undefined ? undefined : nextLink(link, m);
  }
  if (link === data.chain && expected.length === data.count) return;
  const found: AuditProblem[] = [];
  const moved: Moved[] = [];
  for (let s = data.firstSeq; s <= data.lastSeq; s++) {
    const m = bySeq.get(s);
    const want = expected[s - data.firstSeq];
    if (m === undefined) {
      found.push({ kind: "missing", seq: s, message: "no message at this sequence (a gap)" });
      continue;
    }
    const digest = contentDigest(m);
    if (digest === want) continue;
    const elsewhere = (expectedAt.get(digest) ?? []).filter((x) => x !== s);
    if (elsewhere.length === 0) {
      found.push({
        kind: "altered",
        seq: s,
        message: `${m.subject} (id ${m.msgId || "-"}) is not the event checkpoint #${data.index} signed here`,
      });
      continue;
    }
    moved.push({
      seq: s,
      belongs: elsewhere.reduce((a, b) => (Math.abs(b - s) < Math.abs(a - s) ? b : a)),
    });
    if (want !== undefined && !presentDigests.has(want))
      found.push({
        kind: "missing",
        seq: s,
        message: "the event signed at this sequence is nowhere in the trail",
      });
  }
  found.push(...movedRuns(moved));
  if (found.length === 0)
    found.push({
      kind: "checkpoint_mismatch",
      seq: cp.seq,
      message: `checkpoint #${data.index} (seq ${data.firstSeq}..${data.lastSeq}) does not match the recomputed chain`,
    });
  problems.push(...found);
}

/**
 * Gaps among the sequences from `from` to `to` (both included) that hold no message, built from
 * the sequences present (`present`, ascending): never walks the integers between, so a forged
 * sequence (or stream last sequence) of 9e15 costs nothing.
 */
function gaps(present: readonly number[], from: number, to: number): AuditProblem[] {
  const out: AuditProblem[] = [];
  const hole = (start: number, end: number) => {
    if (end >= start)
      out.push({
        kind: "missing",
        seq: start,
        ...(end > start ? { toSeq: end } : {}),
        message: "no message at this sequence (a gap)",
      });
  };
  let next = from;
  for (const seq of present) {
    if (seq < next) continue;
    if (seq > to) break;
    hole(next, seq - 1);
    next = seq + 1;
  }
  hole(next, to);
  return out;
}

/**
 * Verifies a trail: the checkpoints' signatures (by any of the given keys: a rotation) and
 * links, every covered range recomputed, and what is not covered yet. The trail begins at the
 * first valid checkpoint whose range starts at or after the first message present (older
 * events aged out with the stream's `max_age`, or were not exported): that is not a failure,
 * and the report says where it begins.
 */
export function verifyTrail(
  input: readonly StoredMessage[],
  publicKey: KeyObject | readonly KeyObject[],
  opts: VerifyOptions = {},
): AuditReport {
  const problems: AuditProblem[] = [];
  const warnings: string[] = [];
  const messages = ordered(input, problems);
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  const firstPresent = messages[0]?.seq ?? 1;
  const lastPresent = Math.max(messages[messages.length - 1]?.seq ?? 0, opts.lastSeq ?? 0);
  const all = checkpointsOf(messages, Array.isArray(publicKey) ? publicKey : [publicKey], problems);
  const start = all.findIndex((c) => c.data.firstSeq >= firstPresent);
  const cps = start < 0 ? [] : all.slice(start);
  const base = { checkpoints: cps.length, messages: messages.length };
  if (cps.length === 0) {
    problems.push({
      kind: "no_checkpoint",
      seq: firstPresent,
      message:
        all.length === 0
          ? "no checkpoint signed by the given key: nothing can be verified"
          : "no checkpoint's range is fully present: nothing can be verified",
    });
    return { ok: false, problems, warnings, ...base };
  }
  checkLinks(cps, problems);
  const first = (cps[0] as Checkpoint).data;
  if (first.firstSeq > firstPresent)
    warnings.push(
      `${first.firstSeq - firstPresent} message(s) before seq ${first.firstSeq} are before the trail begins: not checked`,
    );
  const expectedAt = new Map<string, number[]>();
  for (const { data } of cps)
    digestsOf(data).forEach((d, i) => {
      const at = expectedAt.get(d) ?? [];
      at.push(data.firstSeq + i);
      expectedAt.set(d, at);
    });
  const present = new Set(messages.map(contentDigest));
  for (const cp of cps) checkRange(cp, bySeq, expectedAt, present, problems);
  // A new chain may re-cover what the previous one covered: the highest end counts.
  const coveredTo = cps.reduce((to, c) => Math.max(to, c.data.lastSeq), 0);
  problems.push(
    ...gaps(
      messages.map((m) => m.seq),
      coveredTo + 1,
      lastPresent,
    ),
  );
  const uncovered = messages.filter((m) => m.seq > coveredTo && m.subject !== CHECKPOINT_SUBJECT);
  if (uncovered.length > 0)
    warnings.push(
      `${uncovered.length} event(s) after seq ${coveredTo} are not covered by a checkpoint yet (up to seq ${lastPresent})`,
    );
  problems.sort((a, b) => a.seq - b.seq);
  return {
    ok: problems.length === 0,
    problems,
    warnings,
    begins: { seq: first.firstSeq, checkpoint: first.index },
    coveredTo,
    ...base,
  };
}
