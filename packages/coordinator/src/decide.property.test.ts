import type { Color } from "@bluegreen/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { publishedEvents } from "./decide/commands.ts";
import {
  ctxAt,
  deadlineTick,
  ev,
  INPUT_KINDS,
  inputs,
  planFixture,
  T0,
} from "./decide/fixtures.ts";
import type { Input } from "./decide/inputs.ts";
import { isTerminal } from "./decide/phases.ts";
import { type DeploymentState, deploymentStateSchema, type Plan } from "./decide/state.ts";
import { decide } from "./decide.ts";

/**
 * Random event sequences — right, wrong, repeated, out of order, for other colours and
 * nodes, with deadlines passing at random — never produce two switches in flight or a
 * rollback to a colour that was never healthy, and every terminal outcome releases the lock.
 */

const COLORS: Color[] = ["blue", "green"];

const planArb: fc.Arbitrary<Plan> = fc
  .record({
    active: fc.constantFrom<Color | null>("blue", "green", null),
    twoNodes: fc.boolean(),
    manual: fc.boolean(),
  })
  .map(({ active, twoNodes, manual }) =>
    planFixture({
      activeColor: active,
      targetColor: active === "blue" ? "green" : "blue",
      previousVersion: active === null ? null : "v1.0",
      activeRevision: active === null ? 0 : 7,
      manualPromotion: manual,
      nodes: twoNodes
        ? [
            { host: "127.0.0.1", port: 8002 },
            { host: "127.0.0.1", port: 8004 },
          ]
        : [{ host: "127.0.0.1", port: 8002 }],
    }),
  );

/** A step is made against the state it meets: deadlines fire at whatever is armed. */
type Step = (state: DeploymentState | undefined, plan: Plan, at: number) => Input;

/**
 * The input that moves the deployment on (or an operator request where one can race the
 * agents), so random runs reach the later phases often.
 */
const advance: Step = (s, plan, at) => {
  const i = inputs(plan, at);
  if (s === undefined) return i.requested();
  const waiting = Object.entries(s.nodes).findIndex(([, stage]) => stage !== "passed");
  const pick = (...choices: (() => Input)[]) => (choices[at % choices.length] ?? i.requested)();
  switch (s.phase) {
    case "requested":
      return i.preflightOk();
    case "deploying":
    case "readiness":
    case "smoke":
      return i.smokePassed(Math.max(0, waiting));
    case "awaiting_promotion":
      return i.promote();
    case "switching":
      return pick(i.switchDonePromote, i.rollback, i.abort, i.switchDonePromote);
    case "monitoring":
      return pick(i.sloBreached, i.rollback, i.abort, i.sloInconclusiveLimit, i.monitorPassed);
    case "rolling_back":
      return pick(i.switchDoneRollback, i.switchFailedRollback);
    case "succeeded":
      return pick(i.rollback, i.lockAcquired);
    default:
      return i.lockAcquired();
  }
};

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.constant(advance), weight: 10 },
  {
    arbitrary: fc.constantFrom(...INPUT_KINDS).map(
      (kind): Step =>
        (_s, plan, at) =>
          inputs(plan, at)[kind](),
    ),
    weight: 6,
  },
  fc.constant<Step>((s, plan, at) =>
    s === undefined ? inputs(plan, at).requested() : deadlineTick(s),
  ),
  // Answers from the switcher with a random colour and reason (stale, foreign, repeated).
  fc
    .record({
      to: fc.constantFrom(...COLORS),
      reason: fc.constantFrom("promote", "rollback", "manual" as const),
      done: fc.boolean(),
    })
    .map(
      ({ to, reason, done }): Step =>
        (_s, _plan, at) =>
          done
            ? {
                kind: "event",
                event: ev(
                  "switch.done",
                  { from: null, to, changed: true, reason, revision: 11, timings: { totalMs: 1 } },
                  { time: at },
                ),
              }
            : {
                kind: "event",
                event: ev(
                  "switch.failed",
                  {
                    to,
                    reason,
                    stage: "verify",
                    error: { code: "BG_ERR_SWITCH_VERIFY_FAILED", message: "x", retryable: true },
                    restored: true,
                    activeColor: null,
                  },
                  { time: at },
                ),
              },
    ),
  // Smoke results for random nodes and colours.
  fc.record({ color: fc.constantFrom(...COLORS), port: fc.constantFrom(8002, 8004, 8006) }).map(
    ({ color, port }): Step =>
      (_s, _plan, at) => ({
        kind: "event",
        event: ev(
          "smoke.passed",
          { node: `127.0.0.1:${port}`, color, version: "v1.1", durationMs: 1, checks: [] },
          { time: at },
        ),
      }),
  ),
  // SLO verdicts about a random colour.
  fc.constantFrom(...COLORS).map(
    (color): Step =>
      (_s, _plan, at) => ({
        kind: "event",
        event: ev(
          "slo.breached",
          {
            slo: "error-ratio",
            color,
            checks: 1,
            value: 1,
            threshold: 0.05,
            breaches: 1,
            limit: 1,
            action: "rollback",
          },
          { time: at },
        ),
      }),
  ),
);

describe("decide: properties over random event sequences", () => {
  it("never two switches in flight, never a rollback to a colour that was never healthy", () => {
    fc.assert(
      fc.property(
        planArb,
        fc.array(fc.tuple(stepArb, fc.integer({ min: 0, max: 120_000 })), { maxLength: 40 }),
        fc.boolean(),
        (plan, steps, replay) => {
          let state: DeploymentState | undefined;
          let now = T0;
          let inflight: { to: Color; reason: string } | undefined;
          // A rollback goes to the colour that served at pre-flight; a promotion to a colour
          // whose every node passed smoke.
          const served = new Set<Color>();
          const healthy = new Set<Color>();
          const passed = new Set<string>();
          let lockHeld = false;
          const history: Input[] = [];
          for (const [step, advance] of steps) {
            now += advance;
            const input = step(state, plan, now);
            // Sometimes deliver the previous input again (JetStream redelivery).
            const batch =
              replay && history.length > 0 && advance % 3 === 0
                ? [history.at(-1) as Input, input]
                : [input];
            for (const item of batch) {
              history.push(item);
              const before = state;
              const d = decide(state, item, ctxAt(now));
              state = d.state;
              if (state !== undefined)
                expect(deploymentStateSchema.safeParse(state).success).toBe(true);
              if (item.kind === "preflight" && item.outcome.ok && before?.phase === "requested") {
                lockHeld = true;
                if (plan.activeColor !== null) served.add(plan.activeColor);
              }
              if (item.kind === "event" && item.event.type === "bluegreen.smoke.passed") {
                const data = item.event.data;
                if (data.color === plan.targetColor && data.version === "v1.1")
                  passed.add(data.node);
                if (plan.nodes.every((n) => passed.has(`${n.host}:${n.port}`)))
                  healthy.add(plan.targetColor);
              }
              if (
                item.kind === "event" &&
                (item.event.type === "bluegreen.switch.done" ||
                  item.event.type === "bluegreen.switch.failed") &&
                inflight !== undefined &&
                item.event.data.to === inflight.to &&
                item.event.data.reason === inflight.reason
              ) {
                inflight = undefined;
              }
              if (item.kind === "lock" && item.outcome.acquired) lockHeld = true;
              for (const event of publishedEvents(d.commands)) {
                if (event.type !== "bluegreen.switch.requested") continue;
                const sw = (event as { data: { to: Color; reason: string } }).data;
                expect(inflight, "a second switch while one is in flight").toBeUndefined();
                const allowed = sw.reason === "rollback" ? served : healthy;
                expect(allowed.has(sw.to), `switch (${sw.reason}) to ${sw.to}, never healthy`).toBe(
                  true,
                );
                inflight = { to: sw.to, reason: sw.reason };
              }
              if (
                before !== undefined &&
                state !== undefined &&
                !isTerminal(before.phase) &&
                isTerminal(state.phase)
              ) {
                if (lockHeld || before.phase !== "requested")
                  expect(d.commands.some((c) => c.kind === "releaseLock")).toBe(true);
                lockHeld = false;
              }
            }
          }
        },
      ),
      { numRuns: 800 },
    );
  }, 30_000);
});
