import type { ActiveRecord, Color } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import {
  type ActiveState,
  ANSWERS_KEPT,
  decide,
  type FileRead,
  type SwitchCommand,
  type SwitchContext,
  type SwitchDecision,
  type SwitcherState,
  type SwitchRequest,
} from "./decide.ts";
import { done, type SwitchOutcome } from "./outcome.ts";
import { fixtureDefinition } from "./test-fixture.ts";
import { renderUpstream } from "./upstream-file.ts";

/**
 * The switcher's rules as a table, without NATS, nginx or a disk: every request kind against
 * what the switcher answered before, and every fence × record × file state a read can find.
 * Each row reads: given this state, when this input arrives, then these commands.
 */

const def = fixtureDefinition();
const NOW = Date.parse("2026-01-12T12:00:00.000Z");
const ctx = (over: Partial<SwitchContext> = {}): SwitchContext => ({
  now: NOW,
  clock: 1_000,
  serves: true,
  definition: def,
  ...over,
});
const req = (over: Partial<SwitchRequest> = {}): SwitchRequest => ({
  id: "r1",
  service: "emily",
  deploymentId: "d1",
  to: "green",
  reason: "promote",
  expectedRevision: 4,
  version: "v1.1",
  ...over,
});
const record = (color: Color, over: Partial<ActiveRecord> = {}): ActiveRecord => ({
  color,
  version: color === "blue" ? "v1.0" : "v1.1",
  switchedAt: "2026-01-12T10:00:00.000Z",
  reason: "promote",
  previous: null,
  ...over,
});
const answered = (id: string, outcome: SwitchOutcome) => ({ requestId: id, outcome });
const doneBefore = done(req(), "blue", true, 5, { totalMs: 40 });

/** A decision in a few words: the commands it asks for (and what it answers). */
function summary(d: SwitchDecision): string {
  if (d.defer) return "defer";
  return d.commands.length === 0 ? "nothing" : d.commands.map(wordsOf).join(", ");
}

function wordsOf(c: SwitchCommand): string {
  switch (c.kind) {
    case "read":
      return `read ${c.request.id}`;
    case "switch": {
      const steps = [c.nginx ? "nginx" : "", c.record ? "record" : ""].filter(Boolean);
      return `switch ${steps.join("+")} from ${c.from ?? "-"}`;
    }
    case "answer": {
      const o = c.outcome;
      const what =
        o.kind === "done"
          ? `done ${o.data.changed ? "changed" : "unchanged"} rev ${o.data.revision}`
          : `${o.result} ${o.data.stage} ${o.data.error.code} active ${o.data.activeColor ?? "-"}`;
      return `${c.again ? "answer again" : "answer"} ${what}`;
    }
  }
}

describe("decide: a request, before anything is read", () => {
  const rows: [string, SwitcherState | undefined, SwitchRequest, SwitchContext, string][] = [
    ["a first request for the service", undefined, req(), ctx(), "read r1"],
    ["a new request", { answered: [answered("r0", doneBefore)] }, req(), ctx(), "read r1"],
    [
      "a request answered before",
      { answered: [answered("r1", doneBefore)] },
      req(),
      ctx(),
      "answer again done changed rev 5",
    ],
    [
      "a request answered before, now past its deadline (the answer stands)",
      { answered: [answered("r1", doneBefore)] },
      req({ deadline: NOW - 1 }),
      ctx(),
      "answer again done changed rev 5",
    ],
    [
      "a request past its deadline",
      undefined,
      req({ deadline: NOW - 1 }),
      ctx(),
      "answer refused expired BG_ERR_SWITCH_EXPIRED active -",
    ],
    [
      "a request whose deadline is now",
      undefined,
      req({ deadline: NOW }),
      ctx(),
      "answer refused expired BG_ERR_SWITCH_EXPIRED active -",
    ],
    ["a request with its deadline ahead", undefined, req({ deadline: NOW + 1 }), ctx(), "read r1"],
    [
      "a request for a service this switcher does not serve",
      undefined,
      req(),
      ctx({ serves: false }),
      "answer refused config BG_ERR_SWITCH_UNKNOWN_SERVICE active -",
    ],
    [
      "a request for a service without a definition",
      undefined,
      req(),
      ctx({ definition: undefined }),
      "answer refused config BG_ERR_CONFIG_UNKNOWN_SERVICE active -",
    ],
    [
      "a request past its deadline, for a service not served (the deadline speaks first)",
      undefined,
      req({ deadline: NOW - 1 }),
      ctx({ serves: false }),
      "answer refused expired BG_ERR_SWITCH_EXPIRED active -",
    ],
    ["a rollback request", undefined, req({ to: "blue", reason: "rollback" }), ctx(), "read r1"],
    [
      "a manual request without a deployment",
      undefined,
      req({ reason: "manual", deploymentId: undefined }),
      ctx(),
      "read r1",
    ],
  ];
  it.each(rows)("given %s", (_name, state, request, context, expected) => {
    const d = decide(state, { kind: "requested", request }, context);
    expect(summary(d)).toBe(expected);
    if (d.commands[0]?.kind === "read") {
      expect(d.changed).toBe(true);
      expect(d.state?.switching).toEqual({ request, def, startedAt: 1_000 });
    }
    if (d.commands[0]?.kind === "answer" && !d.commands[0].again) {
      expect(d.changed).toBe(true);
      expect(d.state?.answered.at(-1)?.requestId).toBe(request.id);
      expect(d.state?.switching).toBeUndefined();
    }
    if (d.commands[0]?.kind === "answer" && d.commands[0].again) expect(d.changed).toBe(false);
  });
});

/** What a read found: the record (and its revision), the file. */
type Found = [record: ActiveRecord | undefined, revision: number, file: FileRead];
const file = (color: Color | "foreign" | "absent" | "unreadable"): FileRead => {
  if (color === "absent") return { ok: true, content: undefined, color: null };
  if (color === "unreadable") return { ok: false, reason: "EACCES: permission denied" };
  if (color === "foreign") {
    return { ok: true, content: "upstream emily_active { server 9.9.9.9:1; }", color: null };
  }
  return { ok: true, content: renderUpstream(def, color, "g0"), color };
};

describe("decide: the fence, the record and the file, as read", () => {
  const green = req(); // to green, deployment d1, fence 4
  const rows: [string, SwitchRequest, Found, string][] = [
    // Nothing recorded yet (revision 0).
    [
      "no record, no file",
      req({ expectedRevision: 0 }),
      [undefined, 0, file("absent")],
      "switch nginx+record from -",
    ],
    [
      "no record, the file on blue",
      req({ expectedRevision: 0 }),
      [undefined, 0, file("blue")],
      "switch nginx+record from blue",
    ],
    [
      "no record, the file already on the target",
      req({ expectedRevision: 0 }),
      [undefined, 0, file("green")],
      "switch record from -",
    ],
    [
      "no record, a file of other servers",
      req({ expectedRevision: 0 }),
      [undefined, 0, file("foreign")],
      "switch nginx+record from -",
    ],
    [
      "no record, the file unreadable",
      req({ expectedRevision: 0 }),
      [undefined, 0, file("unreadable")],
      "answer failed write BG_ERR_SWITCH_WRITE_FAILED active -",
    ],
    [
      "no record, a fence expecting one",
      green,
      [undefined, 0, file("blue")],
      "answer refused fence BG_ERR_SWITCH_STALE_REVISION active blue",
    ],
    [
      "no record, a fence expecting one, no file",
      green,
      [undefined, 0, file("absent")],
      "answer refused fence BG_ERR_SWITCH_STALE_REVISION active -",
    ],
    // The record names the other colour.
    [
      "blue recorded, fence matches, file on blue",
      green,
      [record("blue"), 4, file("blue")],
      "switch nginx+record from blue",
    ],
    [
      "blue recorded, fence matches, no file",
      green,
      [record("blue"), 4, file("absent")],
      "switch nginx+record from blue",
    ],
    [
      "blue recorded, fence matches, file already on the target (never a toggle: recorded too)",
      green,
      [record("blue"), 4, file("green")],
      "switch nginx+record from blue",
    ],
    [
      "blue recorded, fence matches, a file of other servers",
      green,
      [record("blue"), 4, file("foreign")],
      "switch nginx+record from blue",
    ],
    [
      "blue recorded, fence matches, file unreadable",
      green,
      [record("blue"), 4, file("unreadable")],
      "answer failed write BG_ERR_SWITCH_WRITE_FAILED active blue",
    ],
    [
      "blue recorded, stale fence",
      req({ expectedRevision: 3 }),
      [record("blue"), 4, file("blue")],
      "answer refused fence BG_ERR_SWITCH_STALE_REVISION active blue",
    ],
    [
      "blue recorded, fence from the future",
      req({ expectedRevision: 9 }),
      [record("blue"), 4, file("blue")],
      "answer refused fence BG_ERR_SWITCH_STALE_REVISION active blue",
    ],
    [
      "blue recorded, stale fence, file on green (what nginx serves is the file's)",
      req({ expectedRevision: 3 }),
      [record("blue"), 4, file("green")],
      "answer refused fence BG_ERR_SWITCH_STALE_REVISION active green",
    ],
    [
      "blue recorded, fence 0 (expects no record)",
      req({ expectedRevision: 0 }),
      [record("blue"), 4, file("blue")],
      "answer refused fence BG_ERR_SWITCH_STALE_REVISION active blue",
    ],
    // The record names the target, with the request's fence.
    [
      "green recorded, fence matches, file on green",
      green,
      [record("green"), 4, file("green")],
      "answer done unchanged rev 4",
    ],
    [
      "green recorded, fence matches, file on blue (the file is repaired)",
      green,
      [record("green"), 4, file("blue")],
      "switch nginx from blue",
    ],
    [
      "green recorded, fence matches, no file",
      green,
      [record("green"), 4, file("absent")],
      "switch nginx from -",
    ],
    [
      "green recorded, fence matches, file unreadable",
      green,
      [record("green"), 4, file("unreadable")],
      "answer failed write BG_ERR_SWITCH_WRITE_FAILED active green",
    ],
    // The record names the target, one write after the fence: this request's own write?
    [
      "green recorded by this deployment after the fence, file on green (a redelivery)",
      green,
      [record("green", { deploymentId: "d1" }), 5, file("green")],
      "answer done unchanged rev 5",
    ],
    [
      "green recorded by this deployment later still",
      green,
      [record("green", { deploymentId: "d1" }), 7, file("green")],
      "answer done unchanged rev 7",
    ],
    [
      "green recorded by this deployment, file back on blue",
      green,
      [record("green", { deploymentId: "d1" }), 5, file("blue")],
      "switch nginx from blue",
    ],
    [
      "green recorded by another deployment after the fence",
      green,
      [record("green", { deploymentId: "d9" }), 5, file("green")],
      "answer refused fence BG_ERR_SWITCH_STALE_REVISION active green",
    ],
    [
      "green recorded without a deployment, the one write after the fence, same reason",
      req({ deploymentId: undefined }),
      [record("green"), 5, file("green")],
      "answer done unchanged rev 5",
    ],
    [
      "green recorded without a deployment, two writes after the fence",
      req({ deploymentId: undefined }),
      [record("green"), 6, file("green")],
      "answer refused fence BG_ERR_SWITCH_STALE_REVISION active green",
    ],
    [
      "green recorded without a deployment, the write after the fence, other reason",
      req({ deploymentId: undefined, reason: "manual" }),
      [record("green"), 5, file("green")],
      "answer refused fence BG_ERR_SWITCH_STALE_REVISION active green",
    ],
    // A rollback: back to blue.
    [
      "rollback: green recorded, fence matches, file on green",
      req({ to: "blue", reason: "rollback", version: undefined }),
      [record("green"), 4, file("green")],
      "switch nginx+record from green",
    ],
    [
      "rollback: stale fence",
      req({ to: "blue", reason: "rollback", expectedRevision: 2 }),
      [record("green"), 4, file("green")],
      "answer refused fence BG_ERR_SWITCH_STALE_REVISION active green",
    ],
    [
      "rollback: blue already recorded and served",
      req({ to: "blue", reason: "rollback" }),
      [record("blue"), 4, file("blue")],
      "answer done unchanged rev 4",
    ],
  ];
  it.each(rows)("given %s", (_name, request, [rec, revision, read], expected) => {
    const state: SwitcherState = {
      answered: [],
      switching: { request, def, startedAt: 1_000 },
    };
    const active: ActiveState = { record: rec, revision };
    const d = decide(state, { kind: "read", requestId: request.id, active, file: read }, ctx());
    expect(summary(d)).toBe(expected);
    const command = d.commands[0];
    if (command?.kind === "switch") {
      // The switch goes on with what was read; nothing is remembered as answered yet.
      expect(command).toMatchObject({ active, previous: read.ok ? read.content : undefined });
      expect(d.state).toBe(state);
      expect(d.changed).toBe(false);
    } else {
      expect(d.state).toEqual({
        answered: [{ requestId: request.id, outcome: expect.anything() }],
      });
      expect(d.changed).toBe(true);
    }
  });

  it("answers 'no change' with the time since the request was taken up", () => {
    const state: SwitcherState = {
      answered: [],
      switching: { request: req(), def, startedAt: 1_000 },
    };
    const active: ActiveState = { record: record("green"), revision: 4 };
    const d = decide(
      state,
      { kind: "read", requestId: "r1", active, file: file("green") },
      ctx({ clock: 1_012.345 }),
    );
    expect(d.commands[0]).toMatchObject({
      kind: "answer",
      outcome: { kind: "done", data: { from: "green", to: "green", timings: { totalMs: 12.35 } } },
    });
  });
});

describe("decide: the switch's outcome, and inputs out of turn", () => {
  const switching = { request: req(), def, startedAt: 1_000 };

  it("answers the outcome the switch came back with, and remembers it", () => {
    const outcome = done(req(), "blue", true, 5, { totalMs: 40 });
    const d = decide(
      { answered: [], switching },
      { kind: "switched", requestId: "r1", outcome },
      ctx(),
    );
    expect(d.commands).toEqual([
      { kind: "answer", request: req(), outcome, again: false, startedAt: 1_000 },
    ]);
    expect(d.state).toEqual({ answered: [{ requestId: "r1", outcome }] });
    expect(d.changed).toBe(true);
  });

  it("ignores a read or an outcome of a request that is not in progress", () => {
    const outcome = done(req(), "blue", true, 5, { totalMs: 40 });
    const active: ActiveState = { record: undefined, revision: 0 };
    for (const state of [undefined, { answered: [] }, { answered: [], switching }]) {
      const late = decide(state, { kind: "switched", requestId: "other", outcome }, ctx());
      expect(summary(late)).toBe("nothing");
      expect(late.changed).toBe(false);
      const read = decide(
        state,
        { kind: "read", requestId: "other", active, file: file("blue") },
        ctx(),
      );
      expect(summary(read)).toBe("nothing");
    }
  });

  it("a new request replaces a switch left unfinished by an error (its request is redelivered)", () => {
    const d = decide(
      { answered: [], switching },
      { kind: "requested", request: req({ id: "r2" }) },
      ctx(),
    );
    expect(d.state?.switching?.request.id).toBe("r2");
  });

  it(`remembers the last ${ANSWERS_KEPT} answers of a service`, () => {
    const many = Array.from({ length: ANSWERS_KEPT }, (_, i) => answered(`old-${i}`, doneBefore));
    const d = decide(
      { answered: many },
      { kind: "requested", request: req({ deadline: NOW }) },
      ctx(),
    );
    expect(d.state?.answered).toHaveLength(ANSWERS_KEPT);
    expect(d.state?.answered[0]?.requestId).toBe("old-1");
    expect(d.state?.answered.at(-1)?.requestId).toBe("r1");
  });
});
