import { compileServiceDefinition } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { newWatch, type WatchState } from "./decide/state.ts";
import { type Command, type Ctx, decide, type Input, startsWatch } from "./decide.ts";
import type { Measurement } from "./measurement.ts";

// The watch's state machine as a table: every kind of stored watch × every input, without
// NATS. Each row names what the decision stores and which commands follow, in order.

const def = (source: "scrape" | "prometheus") =>
  compileServiceDefinition({
    service: "emily",
    nodes: { blue: { host: "127.0.0.1", port: 8001 }, green: { host: "127.0.0.1", port: 8002 } },
    deploy: { workdir: "/opt/emily", steps: [["true"]] },
    traffic: {
      upstream: "emily_active",
      file: "/tmp/emily.conf",
      verify: { url: "http://127.0.0.1/health" },
    },
    monitor: {
      window: "10s",
      interval: "1s",
      source: source === "scrape" ? { scrape: true } : { prometheus: "http://127.0.0.1:9090" },
      slos: [
        { name: "errors", query: "q", scrape: { errorRatio: {} }, max: 0.05 },
        { name: "p95", query: "q2", scrape: { quantile: { q: 0.95 } }, max: 5, on_breach: "warn" },
      ],
      inconclusive: { limit: 2, on_limit: "rollback" },
    },
  });

const T0 = 1_000_000;
const ctx: Ctx = { now: T0 + 500, owner: "monitor/m1" };
const spec = { instances: ["127.0.0.1:8002"], monitor: def("prometheus").monitor };

function watch(
  deploymentId: string,
  status: WatchState["status"] = "watching",
  extra: Partial<WatchState> = {},
): WatchState {
  const w = newWatch({
    service: "emily",
    deploymentId,
    color: "green",
    instances: ["127.0.0.1:8002"],
    monitor: def("prometheus").monitor,
    now: T0,
    owner: "monitor/m1",
  });
  return { ...w, status, announced: true, ...extra };
}

const promote = (
  deploymentId?: string,
  changed = true,
): Extract<Input, { kind: "switch.done" }> => ({
  kind: "switch.done",
  service: "emily",
  deploymentId,
  to: "green",
  reason: "promote",
  changed,
  version: "v1.1",
  watch: spec,
});
const switchTo = (to: "blue" | "green", reason: "rollback" | "manual"): Input => ({
  kind: "switch.done",
  service: "emily",
  to,
  reason,
  changed: true,
});
const value = (v: number): Measurement => ({ kind: "value", value: v, requests: 100 });
const measured = (
  deploymentId: string,
  check: number,
  errors: Measurement,
  due = T0 + check * 1_000,
): Input => ({
  kind: "measured",
  deploymentId,
  check,
  due,
  startedAt: due,
  slos: {
    errors: [{ instance: "127.0.0.1:8002", measurement: errors, query: "q on 8002" }],
    p95: [{ measurement: value(1), query: "q2" }],
  },
});

/** The commands as short words: `publish:monitor.started`, `check:1`, `cancel:d1`, … */
function words(commands: readonly Command[]): string[] {
  return commands.map((c) => {
    switch (c.kind) {
      case "publish":
        return `publish:${c.event.name}`;
      case "check":
        return `check:${c.check}`;
      case "cancel":
        return `cancel:${c.deploymentId}`;
      default:
        return c.kind;
    }
  });
}

interface Row {
  given: string;
  state: WatchState | undefined;
  input: Input;
  changed: boolean;
  status?: WatchState["status"] | undefined;
  deploymentId?: string;
  commands: string[];
}

const running = watch("d1");
const passed = watch("d1", "passed");
const breached = watch("d1", "breached");
const elsewhere = watch("d1", "watching", { owner: "monitor/m2" });

const rows: Row[] = [
  // switch.done, promotion
  {
    given: "no watch, a promotion",
    state: undefined,
    input: promote("d1"),
    changed: true,
    status: "watching",
    deploymentId: "d1",
    commands: ["publish:monitor.started", "check:1", "confirm"],
  },
  {
    given: "a finished watch of another deployment, a promotion that changed nothing",
    state: watch("d0", "passed"),
    input: promote("d1", false),
    changed: true,
    deploymentId: "d1",
    commands: ["publish:monitor.started", "check:1", "confirm"],
  },
  {
    given: "a running watch of another deployment, a promotion",
    state: running,
    input: promote("d2"),
    changed: true,
    deploymentId: "d2",
    commands: [
      "cancel:d1",
      "publish:monitor.stopped",
      "publish:monitor.started",
      "check:1",
      "confirm",
    ],
  },
  {
    given: "a running watch, its promotion again (redelivery)",
    state: running,
    input: promote("d1"),
    changed: false,
    commands: [],
  },
  {
    given: "a finished watch, its promotion again",
    state: breached,
    input: promote("d1", false),
    changed: false,
    commands: [],
  },
  {
    given: "no watch, a promotion without a deployment id",
    state: undefined,
    input: promote(undefined),
    changed: false,
    commands: [],
  },
  {
    given: "no watch, a promotion without the definition",
    state: undefined,
    input: { ...promote("d1"), watch: undefined },
    changed: false,
    commands: [],
  },
  // switch.done, rollback or manual
  {
    given: "a running watch, a rollback to the other colour",
    state: running,
    input: switchTo("blue", "rollback"),
    changed: true,
    status: "stopped",
    commands: ["cancel:d1", "publish:monitor.stopped", "confirm"],
  },
  {
    given: "a running watch, a manual switch to the other colour",
    state: running,
    input: switchTo("blue", "manual"),
    changed: true,
    status: "stopped",
    commands: ["cancel:d1", "publish:monitor.stopped", "confirm"],
  },
  {
    given: "a running watch, a manual switch to the watched colour",
    state: running,
    input: switchTo("green", "manual"),
    changed: false,
    commands: [],
  },
  {
    given: "no watch, a rollback",
    state: undefined,
    input: switchTo("blue", "rollback"),
    changed: false,
    commands: [],
  },
  {
    given: "a finished watch, a rollback",
    state: breached,
    input: switchTo("blue", "rollback"),
    changed: false,
    commands: [],
  },
  // deployment.ended
  {
    given: "a running watch, its deployment ended",
    state: running,
    input: { kind: "deployment.ended", deploymentId: "d1" },
    changed: true,
    status: "stopped",
    commands: ["cancel:d1", "publish:monitor.stopped", "confirm"],
  },
  {
    given: "a running watch, another deployment ended",
    state: running,
    input: { kind: "deployment.ended", deploymentId: "d2" },
    changed: false,
    commands: [],
  },
  {
    given: "a running watch, a deployment without id ended",
    state: running,
    input: { kind: "deployment.ended" },
    changed: false,
    commands: [],
  },
  {
    given: "a finished watch, its deployment ended",
    state: passed,
    input: { kind: "deployment.ended", deploymentId: "d1" },
    changed: false,
    commands: [],
  },
  {
    given: "no watch, a deployment ended",
    state: undefined,
    input: { kind: "deployment.ended", deploymentId: "d1" },
    changed: false,
    commands: [],
  },
  // resume
  {
    given: "a running watch, the monitor starts",
    state: running,
    input: { kind: "resume", from: 0 },
    changed: true,
    status: "watching",
    commands: ["publish:monitor.started", "check:1", "confirm"],
  },
  {
    given: "a running watch resumed already, the resume again",
    state: { ...running, resumes: 1 },
    input: { kind: "resume", from: 0 },
    changed: false,
    commands: [],
  },
  {
    given: "a finished watch, the monitor starts",
    state: passed,
    input: { kind: "resume", from: 0 },
    changed: false,
    commands: [],
  },
  // baseline
  {
    given: "a running watch, its baseline",
    state: running,
    input: {
      kind: "baseline",
      deploymentId: "d1",
      baselines: { "127.0.0.1:8002": { at: 1, families: {} } },
    },
    changed: true,
    commands: ["check:1"],
  },
  {
    given: "a running watch, a baseline no node answered",
    state: running,
    input: { kind: "baseline", deploymentId: "d1", baselines: {} },
    changed: false,
    commands: ["check:1"],
  },
  {
    given: "a running watch, the baseline of another deployment",
    state: running,
    input: { kind: "baseline", deploymentId: "d0", baselines: {} },
    changed: false,
    commands: [],
  },
  {
    given: "a watch another monitor resumed, a baseline",
    state: elsewhere,
    input: { kind: "baseline", deploymentId: "d1", baselines: {} },
    changed: false,
    commands: ["cancel:d1"],
  },
  // measured
  {
    given: "a running watch, a clean round",
    state: running,
    input: measured("d1", 1, value(0.01)),
    changed: true,
    status: "watching",
    commands: ["check:2"],
  },
  {
    given: "a running watch, a round over the threshold",
    state: running,
    input: measured("d1", 1, value(0.5)),
    changed: true,
    status: "breached",
    commands: ["publish:slo.breached", "cancel:d1", "confirm"],
  },
  {
    given: "a running watch, an inconclusive round below the limit",
    state: running,
    input: measured("d1", 1, { kind: "error", reason: "unreachable", detail: "refused" }),
    changed: true,
    status: "watching",
    commands: ["publish:slo.inconclusive", "check:2", "confirm"],
  },
  {
    given: "a running watch, the round at the deadline",
    state: { ...running, checks: 9, lastCheckAt: T0 + 9_000 },
    input: measured("d1", 10, value(0.01)),
    changed: true,
    status: "passed",
    commands: ["publish:monitor.passed", "cancel:d1", "confirm"],
  },
  {
    given: "a running watch, a round counted already (a write whose answer was lost)",
    state: { ...running, checks: 1, lastCheckAt: T0 + 1_000 },
    input: measured("d1", 1, value(0.01)),
    changed: false,
    commands: ["check:2"],
  },
  {
    given: "a running watch, a round of another deployment",
    state: running,
    input: measured("d0", 1, value(0.5)),
    changed: false,
    commands: [],
  },
  {
    given: "a stopped watch, a late round",
    state: watch("d1", "stopped"),
    input: measured("d1", 1, value(0.5)),
    changed: false,
    commands: [],
  },
  {
    given: "a watch another monitor resumed, a round",
    state: elsewhere,
    input: measured("d1", 1, value(0.5)),
    changed: false,
    commands: ["cancel:d1"],
  },
  // published
  {
    given: "a watch, its events out",
    state: breached,
    input: { kind: "published" },
    changed: true,
    status: "breached",
    commands: [],
  },
  {
    given: "no watch, events out",
    state: undefined,
    input: { kind: "published" },
    changed: false,
    commands: [],
  },
];

describe("decide: stored watch × input", () => {
  it.each(rows)("given $given", (row) => {
    const d = decide(row.state, row.input, ctx);
    expect({ changed: d.changed, commands: words(d.commands) }).toEqual({
      changed: row.changed,
      commands: row.commands,
    });
    if (!row.changed) expect(d.state).toBe(row.state);
    if (row.status !== undefined) expect(d.state?.status).toBe(row.status);
    if (row.deploymentId !== undefined) expect(d.state?.deploymentId).toBe(row.deploymentId);
    expect(d.note).not.toBe("");
  });
});

describe("decide: what the transitions store and publish", () => {
  it("starts a watch now, announced, with the colour's nodes and the first check one interval on", () => {
    const d = decide(undefined, promote("d1"), ctx);
    expect(d.state).toMatchObject({
      service: "emily",
      deploymentId: "d1",
      color: "green",
      version: "v1.1",
      instances: ["127.0.0.1:8002"],
      startedAt: ctx.now,
      deadline: ctx.now + 10_000,
      announced: true,
      resumes: 0,
      owner: "monitor/m1",
    });
    expect(d.commands[0]).toMatchObject({
      kind: "publish",
      event: {
        name: "monitor.started",
        id: "d1.started.0",
        service: "emily",
        deploymentId: "d1",
        data: { color: "green", source: "prometheus", windowMs: 10_000, resumed: false },
      },
    });
    expect(d.commands[1]).toEqual({
      kind: "check",
      deploymentId: "d1",
      check: 1,
      at: ctx.now + 1_000,
    });
  });

  it("takes the scrape baseline first with the direct-scrape source", () => {
    const d = decide(
      undefined,
      { ...promote("d1"), watch: { ...spec, monitor: def("scrape").monitor } },
      ctx,
    );
    expect(words(d.commands)).toEqual(["publish:monitor.started", "baseline", "confirm"]);
    const resumed = decide(
      { ...(d.state as WatchState), scrape: { "127.0.0.1:8002": { at: 1, families: {} } } },
      { kind: "resume", from: 0 },
      { ...ctx, owner: "monitor/m2" },
    );
    expect(words(resumed.commands)).toEqual(["publish:monitor.started", "check:1", "confirm"]);
  });

  it("resumes with the same deadline and counters, announcing it again under a new id", () => {
    const stored = { ...running, checks: 3, lastCheckAt: T0 + 3_000, resumes: 1 };
    const d = decide(stored, { kind: "resume", from: 1 }, { now: T0 + 7_500, owner: "monitor/m9" });
    expect(d.state).toMatchObject({
      deadline: stored.deadline,
      checks: 3,
      resumes: 2,
      owner: "monitor/m9",
    });
    expect(d.commands[0]).toMatchObject({
      event: { id: "d1.started.2", data: { resumed: true } },
    });
    // Slots missed while the monitor was down are not replayed: the next one is at once.
    expect(d.commands[1]).toMatchObject({ kind: "check", check: 4, at: T0 + 4_000 });
  });

  it("stops with the reason and the checks so far", () => {
    const d = decide({ ...running, checks: 4 }, switchTo("blue", "rollback"), ctx);
    expect(d.state).toMatchObject({
      status: "stopped",
      endedAt: ctx.now,
      endReason: "switched_away",
    });
    expect(d.commands[1]).toMatchObject({
      event: {
        name: "monitor.stopped",
        id: "d1.stopped",
        data: { color: "green", reason: "switched_away", checks: 4 },
      },
    });
    const superseded = decide(running, promote("d2"), ctx);
    expect(superseded.commands[1]).toMatchObject({
      event: { deploymentId: "d1", data: { reason: "superseded" } },
    });
  });

  it("judges the worst target, tallies, and names events after the round and the SLO", () => {
    const input: Input = {
      ...(measured("d1", 1, value(0.01)) as Extract<Input, { kind: "measured" }>),
      slos: {
        errors: [
          { instance: "a:1", measurement: value(0.01), query: "q on a" },
          { instance: "b:1", measurement: value(0.3), query: "q on b" },
        ],
        p95: [{ measurement: value(9), query: "q2" }],
      },
    };
    const d = decide(running, input, ctx);
    expect(d.state).toMatchObject({
      status: "breached",
      checks: 1,
      warnings: 1,
      lastCheckAt: T0 + 1_000,
    });
    expect(d.commands.slice(0, 2)).toMatchObject([
      {
        event: {
          name: "slo.breached",
          id: "d1.c1.slo.breached.0",
          data: { slo: "errors", value: 0.3, query: "q on b", threshold: 0.05 },
        },
      },
      { event: { name: "slo.warning", id: "d1.c1.slo.warning.1", data: { slo: "p95", value: 9 } } },
    ]);
  });

  it("passes at the deadline with the counts and the window's duration", () => {
    const last = { ...running, checks: 9, lastCheckAt: T0 + 9_000, warnings: 1, inconclusive: 2 };
    const d = decide(last, measured("d1", 10, value(0.01)), { ...ctx, now: T0 + 10_050 });
    expect(d.state).toMatchObject({ status: "passed", checks: 10, endReason: "window ended" });
    expect(d.commands[0]).toMatchObject({
      event: {
        name: "monitor.passed",
        id: "d1.passed",
        data: { checks: 10, warnings: 1, inconclusive: 2, durationMs: 10_050 },
      },
    });
  });

  it("an early round (nginx evidence) takes no slot: the next check is still due at the same time", () => {
    const early: Input = {
      ...(measured("d1", 1, value(0.01)) as Extract<Input, { kind: "measured" }>),
      startedAt: T0 + 300,
      early: true,
    };
    const d = decide(running, early, { ...ctx, now: T0 + 310 });
    expect(d.state).toMatchObject({ status: "watching", checks: 1, lastCheckAt: T0 + 300 });
    expect(d.commands).toEqual([{ kind: "check", deploymentId: "d1", check: 2, at: T0 + 1_000 }]);
  });

  it("sums the nginx evidence, real requests and probes apart, and puts it on a breach", () => {
    const nginx = (v: number): Measurement => ({
      kind: "value",
      value: v,
      requests: 40,
      probes: 30,
      significant: true,
    });
    const d = decide(running, measured("d1", 1, nginx(0.5)), ctx);
    expect(d.state?.evidence).toEqual({ requests: 10, probes: 30 });
    expect(d.commands[0]).toMatchObject({
      event: { name: "slo.breached", data: { evidence: { requests: 10, probes: 30 } } },
    });
  });

  it("a value over max without significance (nginx's confidence rule) is ok", () => {
    const unsure: Measurement = { kind: "value", value: 0.33, requests: 3, significant: false };
    const d = decide(running, measured("d1", 1, unsure), ctx);
    expect(d.state?.slos.errors).toMatchObject({ ok: 1, breaches: 0 });
  });

  it("keeps the scrape baselines a round brings", () => {
    const baselines = { "127.0.0.1:8002": { at: 5, families: { x: { "": 1 } } } };
    const d = decide(running, { ...measured("d1", 1, value(0)), baselines } as Input, ctx);
    expect(d.state?.scrape).toEqual(baselines);
  });
});

describe("startsWatch", () => {
  it("is true for a promotion of a deployment not watched before", () => {
    const facts = { deploymentId: "d2", to: "green", reason: "promote", changed: true } as const;
    expect(startsWatch(undefined, facts)).toBe(true);
    expect(startsWatch(running, facts)).toBe(true);
    expect(startsWatch(watch("d2", "passed"), facts)).toBe(false);
    expect(startsWatch(undefined, { ...facts, deploymentId: undefined })).toBe(false);
    expect(startsWatch(running, { ...facts, reason: "rollback" })).toBe(false);
  });
});
