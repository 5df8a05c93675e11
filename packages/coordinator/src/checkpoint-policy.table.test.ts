import { describe, expect, it } from "vitest";
import { type CheckpointFacts, nextCheckpointRange } from "./checkpoint-policy.ts";

const policy = { every: 100, intervalMs: 60_000 };
const facts = (over: Partial<CheckpointFacts>): CheckpointFacts => ({
  nextSeq: 1,
  lastSeq: 0,
  lastCheckpointSeq: 0,
  sinceLastMs: 0,
  ...over,
});

describe("nextCheckpointRange", () => {
  it.each([
    ["an empty stream", facts({}), undefined],
    ["a few events, interval not passed", facts({ lastSeq: 5, sinceLastMs: 1_000 }), undefined],
    ["a few events, interval passed", facts({ lastSeq: 5, sinceLastMs: 60_000 }), [1, 5]],
    ["`every` events", facts({ lastSeq: 100 }), [1, 100]],
    ["a backlog: `every` at a time", facts({ lastSeq: 250 }), [1, 100]],
    [
      "only the last checkpoint waits, interval passed",
      facts({ nextSeq: 101, lastSeq: 101, lastCheckpointSeq: 101, sinceLastMs: 90_000 }),
      undefined,
    ],
    [
      "the last checkpoint and an event, interval passed",
      facts({ nextSeq: 101, lastSeq: 102, lastCheckpointSeq: 101, sinceLastMs: 90_000 }),
      [101, 102],
    ],
    [
      "`every` events after the last checkpoint",
      facts({ nextSeq: 101, lastSeq: 201, lastCheckpointSeq: 101 }),
      [101, 200],
    ],
    [
      "a checkpoint resumed from an older range (nothing new)",
      facts({ nextSeq: 101, lastSeq: 100, lastCheckpointSeq: 100, sinceLastMs: 90_000 }),
      undefined,
    ],
  ] as const)("%s", (_name, f, want) => {
    const got = nextCheckpointRange(f, policy);
    expect(got === undefined ? undefined : [got.firstSeq, got.lastSeq]).toEqual(want);
  });
});
