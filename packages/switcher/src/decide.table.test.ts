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

/** The upstream file as a read finds it. */
type FileState = Color | "foreign" | "absent" | "unreadable";
const file = (state: FileState): FileRead => {
  if (state === "absent") return { ok: true, content: undefined, color: null };
  if (state === "unreadable") return { ok: false, reason: "EACCES: permission denied" };
  if (state === "foreign") {
    return { ok: true, content: "upstream emily_active { server 9.9.9.9:1; }", color: null };
  }
  return { ok: true, content: renderUpstream(def, state, "g0"), color: state };
};

/** The request, by its target, fence and what identifies it. */
const asks: Record<string, SwitchRequest> = {
  "green fence 0": req({ expectedRevision: 0 }),
  "green fence 3": req({ expectedRevision: 3 }),
  "green fence 4": req(),
  "green fence 9": req({ expectedRevision: 9 }),
  "green fence 4 anonymous": req({ deploymentId: undefined }),
  "green fence 4 anonymous manual": req({ deploymentId: undefined, reason: "manual" }),
  "blue fence 4 rollback": req({ to: "blue", reason: "rollback", version: undefined }),
  "blue fence 2 rollback": req({ to: "blue", reason: "rollback", expectedRevision: 2 }),
};

/** The active record as read: `none`, or `<colour>@<revision>`, `by <deployment>` when named. */
function active(text: string): ActiveState {
  if (text === "none") return { record: undefined, revision: 0 };
  const [, color, revision, by] = /^(blue|green)@(\d+)(?: by (\w+))?$/.exec(text) ?? [];
  return {
    record: record(color as Color, by === undefined ? {} : { deploymentId: by }),
    revision: Number(revision),
  };
}

describe("decide: the fence, the record and the file, as read", () => {
  // request | record | file | then
  const rows: [string, string, FileState, string][] = [
    // Nothing recorded yet (revision 0).
    ["green fence 0", "none", "absent", "switch nginx+record from -"],
    ["green fence 0", "none", "blue", "switch nginx+record from blue"],
    ["green fence 0", "none", "green", "switch record from -"],
    ["green fence 0", "none", "foreign", "switch nginx+record from -"],
    ["green fence 0", "none", "unreadable", "answer failed write active -"],
    ["green fence 4", "none", "blue", "answer refused fence active blue"],
    ["green fence 4", "none", "absent", "answer refused fence active -"],
    // The record names the other colour: a file already on the target is recorded too.
    ["green fence 4", "blue@4", "blue", "switch nginx+record from blue"],
    ["green fence 4", "blue@4", "absent", "switch nginx+record from blue"],
    ["green fence 4", "blue@4", "green", "switch nginx+record from blue"],
    ["green fence 4", "blue@4", "foreign", "switch nginx+record from blue"],
    ["green fence 4", "blue@4", "unreadable", "answer failed write active blue"],
    ["green fence 3", "blue@4", "blue", "answer refused fence active blue"],
    ["green fence 9", "blue@4", "blue", "answer refused fence active blue"],
    ["green fence 3", "blue@4", "green", "answer refused fence active green"],
    ["green fence 0", "blue@4", "blue", "answer refused fence active blue"],
    // The record names the target, with the request's fence: the file decides.
    ["green fence 4", "green@4", "green", "answer done unchanged rev 4"],
    ["green fence 4", "green@4", "blue", "switch nginx from blue"],
    ["green fence 4", "green@4", "absent", "switch nginx from -"],
    ["green fence 4", "green@4", "unreadable", "answer failed write active green"],
    // The record names the target after the fence: this request's own write (a redelivery)?
    ["green fence 4", "green@5 by d1", "green", "answer done unchanged rev 5"],
    ["green fence 4", "green@7 by d1", "green", "answer done unchanged rev 7"],
    ["green fence 4", "green@5 by d1", "blue", "switch nginx from blue"],
    ["green fence 4", "green@5 by d9", "green", "answer refused fence active green"],
    ["green fence 4 anonymous", "green@5", "green", "answer done unchanged rev 5"],
    ["green fence 4 anonymous", "green@6", "green", "answer refused fence active green"],
    ["green fence 4 anonymous manual", "green@5", "green", "answer refused fence active green"],
    // A rollback: back to blue.
    ["blue fence 4 rollback", "green@4", "green", "switch nginx+record from green"],
    ["blue fence 2 rollback", "green@4", "green", "answer refused fence active green"],
    ["blue fence 4 rollback", "blue@4", "blue", "answer done unchanged rev 4"],
  ];
  it.each(rows)("given request %s, record %s, file %s: %s", (ask, recorded, found, expected) => {
    const request = asks[ask] as SwitchRequest;
    const state: SwitcherState = { answered: [], switching: { request, def, startedAt: 1_000 } };
    const read = file(found);
    const fence = active(recorded);
    const input = { kind: "read" as const, requestId: request.id, active: fence, file: read };
    const d = decide(state, input, ctx());
    expect(summary(d).replace(/ BG_ERR_\w+/, "")).toBe(expected);
    const command = d.commands[0];
    if (command?.kind === "switch") {
      // The switch goes on with what was read; nothing is remembered as answered yet.
      expect(command).toMatchObject({
        active: fence,
        previous: read.ok ? read.content : undefined,
      });
      expect(d.state).toBe(state);
      expect(d.changed).toBe(false);
      return;
    }
    expect(d.state).toEqual({ answered: [{ requestId: request.id, outcome: expect.anything() }] });
    expect(d.changed).toBe(true);
    const code =
      command?.kind === "answer" && command.outcome.kind === "failed"
        ? command.outcome.data.error.code
        : undefined;
    if (expected.includes("fence")) expect(code).toBe("BG_ERR_SWITCH_STALE_REVISION");
    if (expected.includes("write")) expect(code).toBe("BG_ERR_SWITCH_WRITE_FAILED");
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
