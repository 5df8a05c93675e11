import type { ActiveRecord } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { type ActiveState, checkFence, madeBy, nextRecord, type SwitchRequest } from "./decide.ts";

const req = (over: Partial<SwitchRequest> = {}): SwitchRequest => ({
  id: "req-1",
  service: "emily",
  to: "green",
  reason: "promote",
  expectedRevision: 4,
  ...over,
});
const record = (over: Partial<ActiveRecord> = {}): ActiveRecord => ({
  color: "blue",
  version: "v1.0",
  switchedAt: "2026-01-12T10:00:00.000Z",
  reason: "promote",
  previous: null,
  ...over,
});
const state = (rec: ActiveRecord | undefined, revision: number): ActiveState => ({
  record: rec,
  revision,
});

describe("checkFence", () => {
  it("switches when the fence matches and another colour serves", () => {
    expect(checkFence(req(), state(record(), 4), "blue")).toEqual({
      kind: "switch",
      from: "blue",
      record: true,
    });
  });

  it("refuses a stale fence", () => {
    expect(checkFence(req({ expectedRevision: 3 }), state(record(), 4), "blue")).toEqual({
      kind: "stale",
      actual: 4,
    });
    expect(checkFence(req({ expectedRevision: 0 }), state(record(), 4), "blue").kind).toBe("stale");
    expect(checkFence(req({ expectedRevision: 2 }), state(undefined, 0), null).kind).toBe("stale");
  });

  it("never toggles: the target already serving is no change", () => {
    expect(checkFence(req(), state(record({ color: "green" }), 4), "green")).toEqual({
      kind: "already",
      from: "green",
      revision: 4,
    });
  });

  it("answers a redelivery of the request that switched with no change, though the fence moved", () => {
    const after = state(record({ color: "green", deploymentId: "d1" }), 5);
    expect(checkFence(req({ deploymentId: "d1" }), after, "green").kind).toBe("already");
    // Without a deployment id: the one write right after the expected revision, same reason.
    expect(checkFence(req(), state(record({ color: "green" }), 5), "green").kind).toBe("already");
  });

  it("refuses someone else's stale request even when its target happens to serve", () => {
    const after = state(record({ color: "green", deploymentId: "d1" }), 9);
    expect(checkFence(req({ deploymentId: "d2" }), after, "green").kind).toBe("stale");
    expect(
      checkFence(req(), state(record({ color: "green", reason: "manual" }), 5), "green").kind,
    ).toBe("stale");
  });

  it("repairs the file without rewriting the record when the record already names the target", () => {
    expect(checkFence(req(), state(record({ color: "green" }), 4), "blue")).toEqual({
      kind: "switch",
      from: "blue",
      record: false,
    });
  });

  it("records only, when nothing is recorded and the file already sends traffic to the target", () => {
    expect(checkFence(req({ expectedRevision: 0 }), state(undefined, 0), "green")).toEqual({
      kind: "record-only",
      from: null,
    });
    expect(checkFence(req({ expectedRevision: 0 }), state(undefined, 0), null)).toEqual({
      kind: "switch",
      from: null,
      record: true,
    });
  });

  it("madeBy is false for a different target", () => {
    expect(madeBy(req({ to: "blue" }), state(record({ color: "green" }), 5))).toBe(false);
  });
});

describe("nextRecord", () => {
  const now = new Date("2026-01-12T11:00:00.000Z");

  it("records the target and what served before", () => {
    expect(
      nextRecord(req({ version: "v1.1", deploymentId: "d1" }), state(record(), 4), "blue", now),
    ).toEqual({
      color: "green",
      version: "v1.1",
      switchedAt: "2026-01-12T11:00:00.000Z",
      deploymentId: "d1",
      reason: "promote",
      previous: { color: "blue", version: "v1.0" },
    });
  });

  it("a rollback without a version takes the version the previous record names", () => {
    const current = record({
      color: "green",
      version: "v1.1",
      previous: { color: "blue", version: "v1.0" },
    });
    const next = nextRecord(
      req({ to: "blue", reason: "rollback" }),
      state(current, 5),
      "green",
      now,
    );
    expect(next.version).toBe("v1.0");
    expect(next.previous).toEqual({ color: "green", version: "v1.1" });
  });

  it("without a record, the previous colour is the file's", () => {
    expect(
      nextRecord(req({ expectedRevision: 0 }), state(undefined, 0), "blue", now).previous,
    ).toEqual({
      color: "blue",
      version: null,
    });
    expect(
      nextRecord(req({ expectedRevision: 0 }), state(undefined, 0), null, now).previous,
    ).toBeNull();
  });
});
