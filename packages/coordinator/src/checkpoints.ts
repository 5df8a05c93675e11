// The leading coordinator's audit checkpoints (docs/audit.md): every so often it reads the
// stream's messages not covered yet, chains them and publishes a signed `audit.checkpoint` on
// `bluegreen._.audit.checkpoint`. A new leader resumes from the last checkpoint stored; each
// checkpoint is published only if the last one stored is still the one it follows (the
// stream's expected-last-subject-sequence check), so two coordinators that both believe they
// lead cannot fork the chain: one of them is refused and resumes from what the other wrote.
// It follows only a checkpoint it can trust (its own key's signature, a sane range): anything
// else on the subject is refused, counted as a failure, and the chain continues after the last
// checkpoint it can trust, or starts anew (docs/audit.md, "When the coordinator signs").

import type { KeyObject } from "node:crypto";
import {
  type BgEvent,
  createEvent,
  NO_SERVICE,
  parseEvent,
  STREAM_NAME,
} from "@bluegreen/contracts";
import {
  type Bus,
  buildCheckpoint,
  CHECKPOINT_SUBJECT,
  type ChainHead,
  type CheckpointData,
  genesisHead,
  headAfter,
  isWrongLastSequence,
  keyIdOf,
  type Logger,
  lastCheckpointMessage,
  readTrail,
  type StoredMessage,
  signatureValid,
} from "@bluegreen/runtime";
import type { JetStreamManager } from "nats";
import { type CheckpointPolicy, nextCheckpointRange } from "./checkpoint-policy.ts";

export interface CheckpointerOptions {
  readonly bus: Bus;
  readonly jsm: JetStreamManager;
  readonly key: KeyObject;
  readonly policy: CheckpointPolicy;
  readonly logger: Logger;
  /** Called after each checkpoint stored, and after each failed attempt (metrics). */
  readonly onCheckpoint?: (data: CheckpointData) => void;
  readonly onFailure?: (err: unknown) => void;
}

/**
 * Whether the checkpoint stored at `msg.seq` can be followed by the coordinator signing with
 * `key`: readable, signed by that key, and covering only sequences before its own and at most
 * the stream's last one (`streamLastSeq`). Pure: table-tested.
 */
export function judgeCheckpoint(
  msg: StoredMessage,
  key: KeyObject,
  streamLastSeq: number,
): { ok: true; data: CheckpointData } | { ok: false; reason: string } {
  const parsed = parseEvent(msg.payload, { expect: ["audit.checkpoint"] });
  if (!parsed.ok) return { ok: false, reason: `unreadable: ${parsed.error.message}` };
  const data = (parsed.event as BgEvent<"audit.checkpoint">).data;
  const keyId = keyIdOf(key);
  if (data.keyId !== keyId)
    return { ok: false, reason: `signed by key ${data.keyId}, not this coordinator's ${keyId}` };
  if (!signatureValid(data, key))
    return { ok: false, reason: "carries this key's id but not its signature (forged?)" };
  if (data.lastSeq >= msg.seq || data.lastSeq > streamLastSeq)
    return {
      ok: false,
      reason: `covers up to seq ${data.lastSeq}, past its own seq ${msg.seq} or the stream's last ${streamLastSeq}`,
    };
  return { ok: true, data };
}

/** How often a leader looks whether a checkpoint is due (at most; the interval may be shorter). */
const TICK_MAX_MS = 1_000;

export class Checkpointer {
  private head: ChainHead | undefined;
  private lastCheckpointSeq = 0;
  private lastAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private active = false;
  readonly keyId: string;

  constructor(private readonly opts: CheckpointerOptions) {
    this.keyId = keyIdOf(opts.key);
  }

  /** Starts checkpointing (the coordinator was elected): resumes from the stream. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.head = undefined;
    this.lastAt = Date.now();
    this.schedule(0);
  }

  /** Stops (deposed or shutting down); waits for a checkpoint being written. */
  async stop(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Signs what is due now, whatever the policy says (tests; shutting down). */
  async flush(): Promise<CheckpointData | undefined> {
    await this.running;
    const run = this.tick(true);
    this.running = run.then(() => undefined).catch(() => undefined);
    return run;
  }

  private schedule(ms: number): void {
    if (!this.active) return;
    this.timer = setTimeout(() => {
      this.running = this.tick(false)
        .then(() => undefined)
        .catch((err: unknown) => {
          this.opts.onFailure?.(err);
          this.opts.logger.error({ err }, "audit checkpoint failed");
        })
        .finally(() =>
          this.schedule(Math.max(50, Math.min(TICK_MAX_MS, this.opts.policy.intervalMs))),
        );
    }, ms);
  }

  /**
   * Where the chain stands: after the last checkpoint stored, or a new chain. A last checkpoint
   * it cannot trust (judgeCheckpoint) is refused and counted as a failure; the chain then
   * continues after the last one it can trust, or starts anew at the stream's first message.
   */
  private async resume(firstSeq: number, lastSeq: number): Promise<ChainHead> {
    const stored = await lastCheckpointMessage(this.opts.jsm);
    if (stored === undefined) {
      this.lastCheckpointSeq = 0;
      this.opts.logger.info(
        { firstSeq, keyId: this.keyId },
        "audit trail: no checkpoint yet; signing from the stream's first message",
      );
      return genesisHead(firstSeq);
    }
    // The next publish follows whatever is last on the subject, trusted or not.
    this.lastCheckpointSeq = stored.seq;
    const judged = judgeCheckpoint(stored, this.opts.key, lastSeq);
    let data: CheckpointData | undefined;
    if (judged.ok) data = judged.data;
    else {
      const err = new Error(
        `audit trail: refused the last checkpoint (seq ${stored.seq}): ${judged.reason}`,
      );
      this.opts.onFailure?.(err);
      data = await this.lastTrusted(stored.seq - 1, lastSeq);
      this.opts.logger.error(
        { err, seq: stored.seq, keyId: this.keyId, continuesAfter: data?.index },
        data === undefined
          ? "audit trail: refused the last checkpoint and found none of this key to follow; a new chain starts at the stream's first message"
          : "audit trail: refused the last checkpoint; continuing after the last one of this key, `bluegreen audit verify` reports the refused one",
      );
      if (data === undefined) return genesisHead(firstSeq);
    }
    const head = headAfter(data);
    if (head.nextSeq < firstSeq) {
      // The events after the last checkpoint aged out (the coordinator was off longer than
      // max_age): a new chain starts, and `audit verify` says the trail begins there.
      this.opts.logger.warn(
        { lastCheckpoint: data.index, nextSeq: head.nextSeq, firstSeq },
        "audit trail: events after the last checkpoint aged out; a new chain starts",
      );
      return genesisHead(firstSeq);
    }
    this.opts.logger.info(
      { checkpoint: data.index, lastSeq: data.lastSeq, signedBy: data.keyId, keyId: this.keyId },
      "audit trail: resuming after the last checkpoint",
    );
    return head;
  }

  /** The last checkpoint stored up to `toSeq` that this coordinator can trust. */
  private async lastTrusted(toSeq: number, lastSeq: number): Promise<CheckpointData | undefined> {
    if (toSeq < 1) return undefined;
    const { messages } = await readTrail(this.opts.bus.js, this.opts.jsm, {
      fromSeq: 1,
      toSeq,
      subject: CHECKPOINT_SUBJECT,
    });
    for (let i = messages.length - 1; i >= 0; i--) {
      const judged = judgeCheckpoint(messages[i] as StoredMessage, this.opts.key, lastSeq);
      if (judged.ok) return judged.data;
    }
    return undefined;
  }

  private async tick(force: boolean): Promise<CheckpointData | undefined> {
    const { state } = await this.opts.jsm.streams.info(STREAM_NAME);
    // An empty new stream says first_seq 0; its first message will be seq 1.
    const firstSeq = Math.max(1, state.first_seq);
    // What it should sign next aged out while the stream was quiet: resume() starts a new chain.
    if (this.head !== undefined && this.head.nextSeq < firstSeq) this.head = undefined;
    this.head ??= await this.resume(firstSeq, state.last_seq);
    const range = nextCheckpointRange(
      {
        nextSeq: this.head.nextSeq,
        lastSeq: state.last_seq,
        lastCheckpointSeq: this.lastCheckpointSeq,
        sinceLastMs: force ? Number.POSITIVE_INFINITY : Date.now() - this.lastAt,
      },
      this.opts.policy,
    );
    if (range === undefined) return undefined;
    const { messages } = await readTrail(this.opts.bus.js, this.opts.jsm, {
      fromSeq: range.firstSeq,
      toSeq: range.lastSeq,
    });
    let data: CheckpointData;
    try {
      data = buildCheckpoint(this.head, messages, this.opts.key);
    } catch (err) {
      // A range broken by messages aging out meanwhile (or by a gap): the next tick resumes
      // from the stream as it is, which starts a new chain if they aged out.
      this.head = undefined;
      throw err;
    }
    const event = createEvent("audit.checkpoint", {
      service: NO_SERVICE,
      source: this.opts.bus.source,
      data,
      id: `audit-checkpoint-${data.firstSeq}-${data.lastSeq}`,
    });
    try {
      const ack = await this.opts.bus.publish(event as BgEvent, {
        validated: true,
        expectLastSubjectSeq: this.lastCheckpointSeq,
      });
      if (ack.duplicate) {
        // Another coordinator stored this very checkpoint: follow what is stored.
        this.head = undefined;
        return undefined;
      }
      this.head = headAfter(data);
      this.lastCheckpointSeq = ack.seq;
      this.lastAt = Date.now();
      this.opts.logger.info(
        { checkpoint: data.index, firstSeq: data.firstSeq, lastSeq: data.lastSeq, seq: ack.seq },
        "audit checkpoint signed",
      );
      this.opts.onCheckpoint?.(data);
      return data;
    } catch (err) {
      if (!isWrongLastSequence((err as { cause?: unknown }).cause ?? err)) throw err;
      this.opts.logger.warn(
        { checkpoint: data.index },
        "another coordinator stored a checkpoint first; resuming after it",
      );
      this.head = undefined;
      return undefined;
    }
  }
}
