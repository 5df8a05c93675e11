import {
  type ActiveRecord,
  BgError,
  type Color,
  type ServiceDefinition,
  type SwitchReason,
} from "@bluegreen/contracts";
import type { Decision } from "@bluegreen/runtime";
import { done, failed, type SwitchOutcome, since } from "./outcome.ts";

/**
 * The switcher's rules, as one pure function: `decide(state, input, ctx)` for one service.
 *
 * A request is first checked against what this switcher already answered, its deadline and
 * the service; then the fence and the file are read (command `read`), and the fence, the
 * record and the file decide: refuse (stale fence), answer "no change", record only, or switch
 * (command `switch`: the nginx steps and/or the record). Every request ends with one command
 * `answer`, which publishes `switch.done` or `switch.failed`; a request seen before is
 * answered again with what it got, and nothing else happens.
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

/** The active-colour record of a service as read, with its KV revision (0: none yet). */
export interface ActiveState {
  record: ActiveRecord | undefined;
  revision: number;
}

/** What of a service definition a switch uses. */
export type SwitchDefinition = Pick<
  ServiceDefinition,
  "service" | "nodes" | "readiness" | "traffic"
>;

/** How many answers per service are remembered, to answer a request seen again. */
export const ANSWERS_KEPT = 1_000;

/** What this switcher knows of one service: in memory, since a restart forgets nothing stored. */
export interface SwitcherState {
  /** The answers published, oldest first (the last ANSWERS_KEPT). */
  answered: readonly { requestId: string; outcome: SwitchOutcome }[];
  /** The request being carried out, from its read to its answer. */
  switching?: Switching | undefined;
}

export interface Switching {
  request: SwitchRequest;
  /** The service definition when the request was taken up. */
  def: SwitchDefinition;
  /** `performance.now()` when the request was taken up. */
  startedAt: number;
}

/** The upstream file as read: its content (undefined: no file) and colour, or why not. */
export type FileRead =
  | { ok: true; content: string | undefined; color: Color | null }
  | { ok: false; reason: string };

export type SwitchInput =
  /** A `switch.requested` for the service. */
  | { kind: "requested"; request: SwitchRequest }
  /** The fence and the file, as the `read` command found them. */
  | { kind: "read"; requestId: string; active: ActiveState; file: FileRead }
  /** The `switch` command's outcome. */
  | { kind: "switched"; requestId: string; outcome: SwitchOutcome };

export type SwitchCommand =
  /** Read the active record and the upstream file; the target's probe starts with it. */
  | { kind: "read"; request: SwitchRequest; def: SwitchDefinition }
  /**
   * The nginx steps (probe, write, test, reload, verify; restore on failure) when `nginx`,
   * then the record (compare-and-set on the request's fence) when `record`.
   */
  | {
      kind: "switch";
      request: SwitchRequest;
      def: SwitchDefinition;
      startedAt: number;
      active: ActiveState;
      /** The file's content before (undefined: no file), to restore on failure. */
      previous: string | undefined;
      fileColor: Color | null;
      /** What served before, for the answer's `from`. */
      from: Color | null;
      /** What nginx serves as far as known: the file's colour, else the record's. */
      serving: Color | null;
      nginx: boolean;
      record: boolean;
    }
  /** Publish the answer; `again`: a request seen before (not counted in the metrics again). */
  | {
      kind: "answer";
      request: SwitchRequest;
      outcome: SwitchOutcome;
      again: boolean;
      startedAt: number;
    };

export interface SwitchContext {
  /** The wall clock (ms since the epoch): deadlines, records. */
  now: number;
  /** A monotonic clock (`performance.now()`): durations. */
  clock: number;
  /** Whether this switcher serves the service (its `services` list names it, or `*`). */
  serves: boolean;
  /** The service's definition; undefined when there is none. */
  definition: SwitchDefinition | undefined;
}

export type SwitchDecision = Decision<SwitcherState, SwitchCommand>;

export function decide(
  state: SwitcherState | undefined,
  input: SwitchInput,
  ctx: SwitchContext,
): SwitchDecision {
  const known: SwitcherState = state ?? { answered: [] };
  switch (input.kind) {
    case "requested":
      return requested(known, input.request, ctx);
    case "read": {
      const switching = inProgress(known, input.requestId);
      if (switching === undefined) return ignored(known, input.requestId);
      return read(known, switching, input.active, input.file, ctx);
    }
    case "switched": {
      const switching = inProgress(known, input.requestId);
      if (switching === undefined) return ignored(known, input.requestId);
      return answer(
        known,
        switching.request,
        input.outcome,
        switching.startedAt,
        noteOf(input.outcome),
      );
    }
  }
}

function requested(state: SwitcherState, req: SwitchRequest, ctx: SwitchContext): SwitchDecision {
  const seen = state.answered.find((a) => a.requestId === req.id);
  if (seen !== undefined) {
    return {
      state,
      commands: [
        { kind: "answer", request: req, outcome: seen.outcome, again: true, startedAt: ctx.clock },
      ],
      changed: false,
      note: "request seen before: answering again, doing nothing",
    };
  }
  const refuse = (stage: "config" | "expired", error: BgError, note: string) =>
    answer(
      state,
      req,
      failed(req, "refused", stage, error, { activeColor: null }),
      ctx.clock,
      note,
    );
  if (req.deadline !== undefined && ctx.now >= req.deadline) {
    // The deployment stopped waiting for this answer (this switcher was down or cut off that
    // long): carrying it out now would move traffic under a deployment that ended.
    const deadline = new Date(req.deadline).toISOString();
    return refuse(
      "expired",
      new BgError("BG_ERR_SWITCH_EXPIRED", { service: req.service, to: req.to, deadline }),
      `switch request past its deadline (${deadline}): refused, nothing touched`,
    );
  }
  if (!ctx.serves) {
    return refuse(
      "config",
      new BgError("BG_ERR_SWITCH_UNKNOWN_SERVICE", { service: req.service }),
      "a service this switcher does not serve: refused",
    );
  }
  if (ctx.definition === undefined) {
    return refuse(
      "config",
      new BgError("BG_ERR_CONFIG_UNKNOWN_SERVICE", { service: req.service }),
      "no definition for the service: refused",
    );
  }
  const def = ctx.definition;
  return {
    state: { ...state, switching: { request: req, def, startedAt: ctx.clock } },
    commands: [{ kind: "read", request: req, def }],
    changed: true,
    note: `switch to ${req.to} requested (${req.reason}, fence revision ${req.expectedRevision})`,
  };
}

function read(
  state: SwitcherState,
  { request: req, def, startedAt }: Switching,
  active: ActiveState,
  file: FileRead,
  ctx: SwitchContext,
): SwitchDecision {
  if (!file.ok) {
    const error = new BgError("BG_ERR_SWITCH_WRITE_FAILED", {
      file: def.traffic.file,
      reason: file.reason,
    });
    const outcome = failed(req, "failed", "write", error, {
      activeColor: active.record?.color ?? null,
    });
    return answer(state, req, outcome, startedAt, "upstream file not readable: failed");
  }
  const serving = file.color ?? active.record?.color ?? null;
  const fence = checkFence(req, active, file.color);
  switch (fence.kind) {
    case "stale": {
      const error = new BgError("BG_ERR_SWITCH_STALE_REVISION", {
        service: req.service,
        to: req.to,
        expected: req.expectedRevision,
        actual: fence.actual,
      });
      const outcome = failed(req, "refused", "fence", error, { activeColor: serving });
      const note = `stale fence (expected revision ${req.expectedRevision}, found ${fence.actual}): refused`;
      return answer(state, req, outcome, startedAt, note);
    }
    case "already": {
      const outcome = done(req, fence.from, false, fence.revision, {
        totalMs: since(startedAt, ctx.clock),
      });
      return answer(state, req, outcome, startedAt, "target already serves: no change");
    }
    case "record-only":
    case "switch": {
      const nginx = fence.kind === "switch";
      const record = fence.kind === "record-only" || fence.record;
      return {
        state,
        commands: [
          {
            kind: "switch",
            request: req,
            def,
            startedAt,
            active,
            previous: file.content,
            fileColor: file.color,
            from: fence.from,
            serving,
            nginx,
            record,
          },
        ],
        changed: false,
        note: nginx
          ? `switching ${fence.from ?? "nothing"} → ${req.to}${record ? "" : " (already recorded)"}`
          : "the file already serves the target: recording it",
      };
    }
  }
}

/** Remembers the answer and publishes it; the request is no longer in progress. */
function answer(
  state: SwitcherState,
  req: SwitchRequest,
  outcome: SwitchOutcome,
  startedAt: number,
  note: string,
): SwitchDecision {
  const answered = [...state.answered, { requestId: req.id, outcome }].slice(-ANSWERS_KEPT);
  return {
    state: { answered },
    commands: [{ kind: "answer", request: req, outcome, again: false, startedAt }],
    changed: true,
    note,
  };
}

function inProgress(state: SwitcherState, requestId: string): Switching | undefined {
  return state.switching?.request.id === requestId ? state.switching : undefined;
}

function ignored(state: SwitcherState, requestId: string): SwitchDecision {
  return {
    state,
    commands: [],
    changed: false,
    note: `request ${requestId} is not the switch in progress: ignored`,
  };
}

function noteOf(outcome: SwitchOutcome): string {
  if (outcome.kind === "done") {
    return `answering switch.done (${outcome.data.changed ? "switched" : "recorded only"})`;
  }
  return `answering switch.failed (${outcome.result} at ${outcome.data.stage})`;
}

/** What the fence, the record and the file say about a request. */
export type FenceCheck =
  /** The fence does not match: refuse (`BG_ERR_SWITCH_STALE_REVISION`). */
  | { kind: "stale"; actual: number }
  /** The target already serves and is recorded: nothing to do (`changed: false`). */
  | { kind: "already"; from: Color; revision: number }
  /** The file already sends traffic to the target but nothing is recorded yet: record only. */
  | { kind: "record-only"; from: null }
  /** Carry out the switch; `record: false` when the record already names the target. */
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

/** The fence and idempotence rules of a switch: the request, the record, the file's colour. */
export function checkFence(
  req: SwitchRequest,
  state: ActiveState,
  fileColor: Color | null,
): FenceCheck {
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
