/**
 * The notifier's rules, pure: one record per (sink, event) delivery, from routed to delivered,
 * or to failed (a final answer, or given up after `maxTries` sends or `maxAgeMs`).
 *
 *   routed   → a new pending record (stored before the event is acknowledged) + schedule now
 *   due      → pending and its time has come: send; early: schedule again; settled: nothing
 *   answered → ok: delivered · final: failed · retry: pending again after a backoff, or failed
 */

export type DeliveryStatus = "pending" | "delivered" | "failed";

/** A delivery as stored in `bluegreen_notifications` (key: `deliveryKey(sink, eventId)`). */
export interface Delivery {
  sink: string;
  eventId: string;
  /** The event's short name (`deploy.rolled_back`). */
  event: string;
  service: string;
  deploymentId?: string | undefined;
  status: DeliveryStatus;
  /** Sends so far. */
  tries: number;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
  /** When the next send is due (pending only). */
  nextAt: number;
  /** The last answer: `HTTP 503`, `connection refused`, `250 OK`… (never a header or a URL). */
  lastResult?: string | undefined;
  /** The CloudEvent as received, sent as it is (webhook) or rendered (Slack, e-mail). */
  cloudEvent: unknown;
}

/** A send's answer, as the sink classifies it. */
export type SendAnswer =
  | { outcome: "ok"; result: string }
  | { outcome: "retry"; result: string; retryAfterMs?: number | undefined }
  | { outcome: "final"; result: string };

export type DeliveryInput =
  | {
      kind: "routed";
      sink: string;
      eventId: string;
      event: string;
      service: string;
      deploymentId?: string | undefined;
      cloudEvent: unknown;
    }
  | { kind: "due" }
  | { kind: "answered"; answer: SendAnswer; ms: number };

export type DeliveryCommand =
  | { kind: "schedule"; at: number }
  | { kind: "send" }
  | { kind: "settled"; status: "delivered" | "failed"; ageMs: number; note: string };

export interface DeliveryContext {
  now: number;
  maxTries: number;
  maxAgeMs: number;
  backoffMs: number;
  backoffMaxMs: number;
  /** 0..1, for the jitter. */
  random: number;
}

export interface DeliveryDecision {
  state: Delivery | undefined;
  commands: readonly DeliveryCommand[];
  changed: boolean;
  note: string;
}

/** The KV key of a delivery: `<sink>.<event id>` (`:` is not a key character: `=`). */
export function deliveryKey(sink: string, eventId: string): string {
  return `${sink}.${eventId.replace(/:/g, "=")}`;
}

/** base·2^(tries-1), capped, the last fifth of it random. */
export function retryDelay(tries: number, ctx: DeliveryContext): number {
  const exp = Math.min(ctx.backoffMaxMs, ctx.backoffMs * 2 ** Math.max(0, tries - 1));
  return Math.round(exp * 0.8 + exp * 0.2 * ctx.random);
}

const same = (state: Delivery | undefined, commands: DeliveryCommand[], note: string) => ({
  state,
  commands,
  changed: false,
  note,
});

export function decide(
  state: Delivery | undefined,
  input: DeliveryInput,
  ctx: DeliveryContext,
): DeliveryDecision {
  switch (input.kind) {
    case "routed": {
      if (state !== undefined) {
        return state.status === "pending"
          ? same(state, [{ kind: "schedule", at: state.nextAt }], "already routed; pending")
          : same(state, [], `already ${state.status}`);
      }
      const { kind: _kind, ...from } = input;
      const created: Delivery = {
        ...from,
        status: "pending",
        tries: 0,
        createdAt: ctx.now,
        updatedAt: ctx.now,
        nextAt: ctx.now,
      };
      return {
        state: created,
        commands: [{ kind: "schedule", at: ctx.now }],
        changed: true,
        note: "routed",
      };
    }
    case "due": {
      if (state === undefined) return same(state, [], "no such delivery");
      if (state.status !== "pending") return same(state, [], `already ${state.status}`);
      if (ctx.now < state.nextAt)
        return same(state, [{ kind: "schedule", at: state.nextAt }], "not due yet");
      return same(state, [{ kind: "send" }], "sending");
    }
    case "answered": {
      if (state === undefined || state.status !== "pending")
        return same(state, [], "answer for a settled delivery");
      const tries = state.tries + 1;
      const base = { ...state, tries, updatedAt: ctx.now, lastResult: input.answer.result };
      const ageMs = ctx.now - state.createdAt;
      const settle = (status: "delivered" | "failed", note: string): DeliveryDecision => ({
        state: { ...base, status },
        commands: [{ kind: "settled", status, ageMs, note }],
        changed: true,
        note,
      });
      if (input.answer.outcome === "ok") return settle("delivered", "delivered");
      if (input.answer.outcome === "final")
        return settle("failed", `final answer: ${input.answer.result}`);
      if (tries >= ctx.maxTries)
        return settle("failed", `given up after ${tries} tries: ${input.answer.result}`);
      const delay = Math.max(retryDelay(tries, ctx), input.answer.retryAfterMs ?? 0);
      if (ageMs + delay > ctx.maxAgeMs)
        return settle("failed", `given up at the age limit: ${input.answer.result}`);
      const nextAt = ctx.now + delay;
      return {
        state: { ...base, nextAt },
        commands: [{ kind: "schedule", at: nextAt }],
        changed: true,
        note: `will retry in ${delay} ms`,
      };
    }
  }
}
