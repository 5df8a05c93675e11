import type { ActiveRecord, Color, SwitchReason } from "@bluegreen/contracts";

/**
 * The fence and idempotence rules of a switch, as a pure function of the request, the
 * active-colour record (and its KV revision) and the colour the upstream file holds.
 */

export interface SwitchRequest {
  /** The `switch.requested` event id. */
  id: string;
  service: string;
  deploymentId?: string | undefined;
  to: Color;
  reason: SwitchReason;
  expectedRevision: number;
  version?: string | undefined;
  /** When the requester stops waiting for the answer (ms since the epoch). */
  deadline?: number | undefined;
}

export interface ActiveState {
  record: ActiveRecord | undefined;
  /** KV revision of the record; 0 when there is none yet. */
  revision: number;
}

export const DecisionKind = {
  /** The fence does not match: refuse (`BG_ERR_SWITCH_STALE_REVISION`). */
  stale: "stale",
  /** The target already serves and is recorded: nothing to do (`changed: false`). */
  already: "already",
  /** The file already sends traffic to the target but nothing is recorded yet: record only. */
  recordOnly: "record-only",
  /** Carry out the switch; `record: false` when the record already names the target. */
  switch: "switch",
} as const;
export type DecisionKind = (typeof DecisionKind)[keyof typeof DecisionKind];

export type Decision =
  | { kind: "stale"; actual: number }
  | { kind: "already"; from: Color; revision: number }
  | { kind: "record-only"; from: null }
  | { kind: "switch"; from: Color | null; record: boolean };

/**
 * True when the record was written by this same request (a redelivery, or a resend by the
 * same deployment): the record names its deployment, or it is the one write right after the
 * revision the request expected, made for the same deployment and reason.
 */
export function madeBy(req: SwitchRequest, state: ActiveState): boolean {
  const record = state.record;
  if (record === undefined || record.color !== req.to) return false;
  if (req.deploymentId !== undefined && record.deploymentId === req.deploymentId) return true;
  return (
    state.revision === req.expectedRevision + 1 &&
    record.deploymentId === req.deploymentId &&
    record.reason === req.reason
  );
}

export function decide(req: SwitchRequest, state: ActiveState, fileColor: Color | null): Decision {
  const { record, revision } = state;
  const fenced = revision === req.expectedRevision;
  if (record?.color === req.to) {
    if (!fenced && !madeBy(req, state)) return { kind: "stale", actual: revision };
    // Never a toggle: the record names the target; the file decides whether nginx needs work.
    if (fileColor === req.to) return { kind: "already", from: req.to, revision };
    return { kind: "switch", from: fileColor, record: false };
  }
  if (!fenced) return { kind: "stale", actual: revision };
  if (record === undefined && fileColor === req.to) return { kind: "record-only", from: null };
  return { kind: "switch", from: record?.color ?? fileColor, record: true };
}

/** The record written after a switch: the target, and what served before it. */
export function nextRecord(
  req: SwitchRequest,
  state: ActiveState,
  fileColor: Color | null,
  now: Date,
): ActiveRecord {
  const current = state.record;
  const previous =
    current !== undefined
      ? { color: current.color, version: current.version }
      : fileColor !== null && fileColor !== req.to
        ? { color: fileColor, version: null }
        : null;
  // A rollback names no version: it goes back to what the previous record says ran there.
  const version =
    req.version ?? (current?.previous?.color === req.to ? current.previous.version : null);
  return {
    color: req.to,
    version,
    switchedAt: now.toISOString(),
    ...(req.deploymentId === undefined ? {} : { deploymentId: req.deploymentId }),
    reason: req.reason,
    previous,
  };
}
