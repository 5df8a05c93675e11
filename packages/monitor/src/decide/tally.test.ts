import { type Slo, sloSchema } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import type { SloCounters } from "./state.ts";
import { type RoundInput, type SloRoundResult, tallyRound } from "./tally.ts";
import type { CheckResult } from "./verdict.ts";

const errors: Slo = sloSchema.parse({ name: "errors", query: "q1", max: 0.05 });
const latency: Slo = sloSchema.parse({ name: "p95", query: "q2", max: 5, on_breach: "warn" });

type Policy = RoundInput["inconclusive"];
const rollbackAt3: Policy = { limit: 3, consecutive: false, on_limit: "rollback" };

/** Runs rounds of results through tallyRound, carrying the counters, and collects everything. */
function run(
  slos: Slo[],
  rounds: Record<string, CheckResult>[],
  policy: Policy = rollbackAt3,
  opts: { lastIsFinal?: boolean } = {},
) {
  let counters: Record<string, SloCounters> = {};
  const all = [];
  for (const [i, round] of rounds.entries()) {
    const results = new Map<string, SloRoundResult>(
      Object.entries(round).map(([name, result]) => [name, { result, query: `query of ${name}` }]),
    );
    const final = opts.lastIsFinal === true && i === rounds.length - 1;
    const out = tallyRound({
      slos,
      inconclusive: policy,
      counters,
      results,
      color: "green",
      ...(final ? { final } : {}),
    });
    counters = out.counters;
    all.push(out);
  }
  return { counters, rounds: all, intents: all.flatMap((r) => r.intents) };
}

const ok: CheckResult = { verdict: "ok", value: 0.01 };
const bad: CheckResult = { verdict: "breach", value: 0.5 };
const down: CheckResult = {
  verdict: "inconclusive",
  reason: "unreachable",
  detail: "ECONNREFUSED",
};

describe("tallyRound: breaches", () => {
  it("publishes slo.breached with the value, threshold and query at the failure limit, and ends", () => {
    const { rounds, intents } = run([errors], [{ errors: ok }, { errors: bad }]);
    expect(intents).toEqual([
      {
        name: "slo.breached",
        slo: "errors",
        data: {
          slo: "errors",
          query: "query of errors",
          color: "green",
          checks: 2,
          value: 0.5,
          threshold: 0.05,
          breaches: 1,
          limit: 1,
          action: "rollback",
        },
      },
    ]);
    expect(rounds[1]?.end).toMatchObject({ status: "breached", slo: "errors" });
  });

  it("counts breaches in total against failure_limit", () => {
    const twice = { ...errors, failure_limit: 2 };
    const { rounds } = run([twice], [{ errors: bad }, { errors: ok }, { errors: bad }]);
    expect(rounds.map((r) => r.end?.status)).toEqual([undefined, undefined, "breached"]);
  });

  it("warns once while an on_breach: warn SLO stays over, again after it recovered, never ends", () => {
    const slow: CheckResult = { verdict: "breach", value: 6.2 };
    const { rounds, intents, counters } = run(
      [latency],
      [{ p95: slow }, { p95: slow }, { p95: { verdict: "ok", value: 1 } }, { p95: slow }],
    );
    expect(intents.map((i) => [i.name, i.data.checks])).toEqual([
      ["slo.warning", 1],
      ["slo.warning", 4],
    ]);
    expect(intents[0]?.data).toMatchObject({ value: 6.2, threshold: 5 });
    expect(rounds.every((r) => r.end === undefined)).toBe(true);
    expect(rounds.reduce((n, r) => n + r.warnings, 0)).toBe(2);
    expect(counters.p95).toMatchObject({ checks: 4, breaches: 3, ok: 1, warning: true });
  });

  it("sends one rollback request when two SLOs breach in the same round", () => {
    const other = { ...errors, name: "errors-2" };
    const { intents, rounds } = run([errors, other], [{ errors: bad, "errors-2": bad }]);
    expect(intents.map((i) => i.slo)).toEqual(["errors"]);
    expect(rounds[0]?.counters["errors-2"]?.breaches).toBe(1);
  });

  it("reports an infinite value as a finite number", () => {
    const { intents } = run(
      [errors],
      [{ errors: { verdict: "breach", value: Number.POSITIVE_INFINITY } }],
    );
    expect(intents[0]?.data).toMatchObject({ value: Number.MAX_VALUE });
  });
});

describe("tallyRound: inconclusive checks", () => {
  it("publishes every inconclusive check, and at the limit asks for the configured action", () => {
    const { intents, rounds } = run(
      [errors],
      [{ errors: down }, { errors: down }, { errors: down }],
    );
    expect(intents.map((i) => i.name)).toEqual([
      "slo.inconclusive",
      "slo.inconclusive",
      "slo.inconclusive",
    ]);
    expect(
      intents.map((i) => ("count" in i.data ? [i.data.count, i.data.limitReached] : [])),
    ).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(intents[2]?.data).toMatchObject({
      action: "rollback",
      reason: "unreachable",
      detail: "ECONNREFUSED",
    });
    expect(intents[0]?.data).not.toHaveProperty("action");
    expect(rounds.map((r) => r.end?.status)).toEqual([undefined, undefined, "inconclusive"]);
  });

  it("counts in total by default: ok checks in between do not reset the count", () => {
    const { rounds } = run(
      [errors],
      [{ errors: down }, { errors: ok }, { errors: down }, { errors: ok }, { errors: down }],
    );
    expect(rounds[4]?.end?.status).toBe("inconclusive");
  });

  it("counts consecutive ones when asked: an ok check resets the count", () => {
    const consecutive = { ...rollbackAt3, consecutive: true };
    const { rounds, counters } = run(
      [errors],
      [{ errors: down }, { errors: down }, { errors: ok }, { errors: down }, { errors: down }],
      consecutive,
    );
    expect(rounds.every((r) => r.end === undefined)).toBe(true);
    expect(counters.errors).toMatchObject({ inconclusive: 4, consecutiveInconclusive: 2 });
  });

  it("with on_limit: warn, warns at the limit, keeps watching, and then stays quiet", () => {
    const warn = { ...rollbackAt3, limit: 2, on_limit: "warn" as const };
    const { rounds, intents } = run(
      [errors],
      [{ errors: down }, { errors: down }, { errors: down }],
      warn,
    );
    expect(intents).toHaveLength(2);
    expect(intents[1]?.data).toMatchObject({ limitReached: true, action: "warn" });
    expect(rounds.every((r) => r.end === undefined)).toBe(true);
    expect(rounds.map((r) => r.inconclusive)).toEqual([1, 1, 1]);
    expect(rounds.map((r) => r.warnings)).toEqual([0, 1, 0]);
  });

  it("lets a breach reset the consecutive inconclusive count (it is an answer)", () => {
    const twice = { ...errors, failure_limit: 5 };
    const { counters } = run([twice], [{ errors: down }, { errors: bad }], {
      ...rollbackAt3,
      consecutive: true,
    });
    expect(counters.errors?.consecutiveInconclusive).toBe(0);
  });
});

describe("tallyRound: the window's last round", () => {
  const rollbackAt5: Policy = { ...rollbackAt3, limit: 5 };

  it("ends an SLO that was never judged as if at its limit: the configured action, never a pass", () => {
    const { intents, rounds } = run(
      [errors, latency],
      [
        { errors: down, p95: down },
        { errors: down, p95: down },
        { errors: down, p95: down },
      ],
      rollbackAt5,
      { lastIsFinal: true },
    );
    const last = intents.filter((i) => i.name === "slo.inconclusive" && i.data.limitReached);
    // One rollback request for the round, from the first SLO; counts stay what they were.
    expect(last).toHaveLength(1);
    expect(last[0]?.data).toMatchObject({
      slo: "errors",
      count: 3,
      limit: 5,
      limitReached: true,
      action: "rollback",
      detail: "the window ended with no conclusive check of this SLO (3 checks): ECONNREFUSED",
    });
    expect(rounds.map((r) => r.end?.status)).toEqual([undefined, undefined, "inconclusive"]);
    expect(rounds[2]?.end?.reason).toContain("never conclusive in the window");
  });

  it("does nothing of the kind before the last round", () => {
    const { rounds, intents } = run(
      [errors],
      [{ errors: down }, { errors: down }, { errors: down }],
      rollbackAt5,
    );
    expect(rounds.every((r) => r.end === undefined)).toBe(true);
    expect(intents.some((i) => "limitReached" in i.data && i.data.limitReached)).toBe(false);
  });

  it("lets the window pass when the SLO was judged at least once", () => {
    for (const judged of [ok, { ...bad, value: 0.5 }]) {
      const slo = { ...errors, failure_limit: 2 };
      const { rounds } = run(
        [slo],
        [{ errors: judged }, { errors: down }, { errors: down }],
        rollbackAt5,
        {
          lastIsFinal: true,
        },
      );
      expect(rounds.map((r) => r.end?.status)).toEqual([undefined, undefined, undefined]);
    }
  });

  it("with on_limit: warn, an SLO never judged ends the window with a warning", () => {
    const { rounds, intents } = run(
      [errors],
      [{ errors: down }, { errors: down }],
      { ...rollbackAt5, on_limit: "warn" },
      { lastIsFinal: true },
    );
    expect(intents[1]?.data).toMatchObject({ limitReached: true, action: "warn", count: 2 });
    expect(rounds.every((r) => r.end === undefined)).toBe(true);
    expect(rounds.map((r) => r.warnings)).toEqual([0, 1]);
  });

  it("changes nothing for an SLO already past its limit with on_limit: warn", () => {
    const { intents } = run(
      [errors],
      [{ errors: down }, { errors: down }, { errors: down }],
      { ...rollbackAt3, limit: 2, on_limit: "warn" },
      { lastIsFinal: true },
    );
    expect(intents).toHaveLength(2);
  });
});
