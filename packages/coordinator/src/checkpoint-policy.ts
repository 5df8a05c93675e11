// When the leading coordinator signs the next audit checkpoint, pure: table-tested without NATS.

export interface CheckpointPolicy {
  /** A checkpoint once this many events are not covered. */
  readonly every: number;
  /** A checkpoint at least this often while events are not covered. */
  readonly intervalMs: number;
}

export interface CheckpointFacts {
  /** The first sequence the next checkpoint covers. */
  readonly nextSeq: number;
  /** The stream's last sequence now. */
  readonly lastSeq: number;
  /** Where the last checkpoint is stored (0: none): alone, it is no reason for another. */
  readonly lastCheckpointSeq: number;
  /** Since the last checkpoint was signed (or since this coordinator took over). */
  readonly sinceLastMs: number;
}

/**
 * The range of the next checkpoint, or undefined to wait: when `every` events wait, or when
 * `intervalMs` passed and at least one event (other than the last checkpoint itself) waits.
 * A range never exceeds `every` messages; a backlog is signed in several checkpoints.
 */
export function nextCheckpointRange(
  facts: CheckpointFacts,
  policy: CheckpointPolicy,
): { firstSeq: number; lastSeq: number } | undefined {
  const uncovered = facts.lastSeq - facts.nextSeq + 1;
  const ownCheckpoint = facts.lastCheckpointSeq >= facts.nextSeq ? 1 : 0;
  const waiting = uncovered - ownCheckpoint;
  if (waiting <= 0) return undefined;
  if (waiting < policy.every && facts.sinceLastMs < policy.intervalMs) return undefined;
  return {
    firstSeq: facts.nextSeq,
    lastSeq: Math.min(facts.lastSeq, facts.nextSeq + policy.every - 1),
  };
}
