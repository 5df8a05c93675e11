import { describe, expect, it } from "vitest";
import {
  type Delivery,
  type DeliveryContext,
  type DeliveryInput,
  decide,
  retryDelay,
} from "./decide.ts";

const ctx: DeliveryContext = {
  now: 1_000_000,
  maxTries: 3,
  maxAgeMs: 60_000,
  backoffMs: 1_000,
  backoffMaxMs: 8_000,
  random: 0.5,
};
const routed: DeliveryInput = {
  kind: "routed",
  sink: "hook",
  eventId: "ev-1",
  event: "deploy.succeeded",
  service: "emily",
  cloudEvent: { id: "ev-1" },
};
const pending = (over: Partial<Delivery> = {}): Delivery => ({
  sink: "hook",
  eventId: "ev-1",
  event: "deploy.succeeded",
  service: "emily",
  status: "pending",
  tries: 0,
  createdAt: ctx.now - 100,
  updatedAt: ctx.now - 100,
  nextAt: ctx.now - 100,
  cloudEvent: { id: "ev-1" },
  ...over,
});
const answered = (
  answer: Extract<DeliveryInput, { kind: "answered" }>["answer"],
): DeliveryInput => ({
  kind: "answered",
  answer,
  ms: 5,
});

describe("decide: a delivery from routed to delivered or failed", () => {
  const rows: [string, Delivery | undefined, DeliveryInput, Partial<DeliveryContext>, object][] = [
    [
      "a routed event creates a pending record due now",
      undefined,
      routed,
      {},
      { changed: true, status: "pending", commands: ["schedule"] },
    ],
    [
      "a redelivered event for a pending one schedules it again",
      pending(),
      routed,
      {},
      { changed: false, status: "pending", commands: ["schedule"] },
    ],
    [
      "a redelivered event for a delivered one does nothing",
      pending({ status: "delivered" }),
      routed,
      {},
      { changed: false, status: "delivered", commands: [] },
    ],
    [
      "a due pending delivery is sent",
      pending(),
      { kind: "due" },
      {},
      { changed: false, commands: ["send"] },
    ],
    [
      "a pending delivery before its time waits",
      pending({ nextAt: ctx.now + 500 }),
      { kind: "due" },
      {},
      { changed: false, commands: ["schedule"] },
    ],
    [
      "a delivered one is never sent again",
      pending({ status: "delivered" }),
      { kind: "due" },
      {},
      { changed: false, commands: [] },
    ],
    [
      "a failed one is never sent again",
      pending({ status: "failed" }),
      { kind: "due" },
      {},
      { changed: false, commands: [] },
    ],
    [
      "an unknown key does nothing",
      undefined,
      { kind: "due" },
      {},
      { changed: false, commands: [] },
    ],
    [
      "a 2xx delivers",
      pending(),
      answered({ outcome: "ok", result: "HTTP 200" }),
      {},
      { changed: true, status: "delivered", tries: 1, commands: ["settled"] },
    ],
    [
      "a final 4xx fails at once",
      pending(),
      answered({ outcome: "final", result: "HTTP 400" }),
      {},
      { changed: true, status: "failed", tries: 1, commands: ["settled"] },
    ],
    [
      "a 5xx retries after the backoff",
      pending(),
      answered({ outcome: "retry", result: "HTTP 503" }),
      {},
      { changed: true, status: "pending", tries: 1, nextAt: ctx.now + 900, commands: ["schedule"] },
    ],
    [
      "a 429 waits at least its Retry-After",
      pending(),
      answered({ outcome: "retry", result: "HTTP 429", retryAfterMs: 5_000 }),
      {},
      { status: "pending", nextAt: ctx.now + 5_000 },
    ],
    [
      "the last try's 5xx gives up",
      pending({ tries: 2 }),
      answered({ outcome: "retry", result: "HTTP 503" }),
      {},
      { status: "failed", tries: 3, commands: ["settled"] },
    ],
    [
      "a retry past the age limit gives up",
      pending({ createdAt: ctx.now - 59_500 }),
      answered({ outcome: "retry", result: "timed out" }),
      {},
      { status: "failed", commands: ["settled"] },
    ],
    [
      "an answer for a settled delivery changes nothing",
      pending({ status: "delivered" }),
      answered({ outcome: "ok", result: "HTTP 200" }),
      {},
      { changed: false, status: "delivered", commands: [] },
    ],
  ];
  it.each(rows)("%s", (_name, state, input, over, want) => {
    const d = decide(state, input, { ...ctx, ...over });
    const got = {
      changed: d.changed,
      status: d.state?.status,
      tries: d.state?.tries,
      nextAt: d.state?.nextAt,
      commands: d.commands.map((c) => c.kind),
    };
    expect(got).toMatchObject(want);
  });

  it("keeps the last answer, never more than it was given", () => {
    const d = decide(pending(), answered({ outcome: "retry", result: "connection refused" }), ctx);
    expect(d.state?.lastResult).toBe("connection refused");
  });

  it("backs off exponentially, capped, with jitter in the last fifth", () => {
    expect([1, 2, 3, 4, 5].map((t) => retryDelay(t, { ...ctx, random: 0 }))).toEqual([
      800, 1600, 3200, 6400, 6400,
    ]);
    expect(retryDelay(1, { ...ctx, random: 1 })).toBe(1_000);
  });
});
