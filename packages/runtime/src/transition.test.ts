import { BgError } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import {
  type Decision,
  DeferredError,
  type RecordStore,
  type StoredRecord,
  TransitionRunner,
  type TransitionSpec,
} from "./transition.ts";

// A counter that counts inputs: "add" stores and asks to "announce" the new total; "ask"
// answers with an input fed back ("add"); "early" is deferred.
type State = { total: number };
type Input = { kind: "add"; n: number } | { kind: "ask" } | { kind: "early" } | { kind: "noop" };
type Command = { kind: "announce"; total: number } | { kind: "question" };

function decide(state: State | undefined, input: Input): Decision<State, Command> {
  const total = state?.total ?? 0;
  switch (input.kind) {
    case "add":
      return {
        state: { total: total + input.n },
        commands: [{ kind: "announce", total: total + input.n }],
        changed: true,
        note: "added",
      };
    case "ask":
      return { state: { total }, commands: [{ kind: "question" }], changed: true, note: "asked" };
    case "early":
      return { state, commands: [], changed: false, note: "too early", defer: true };
    case "noop":
      return { state, commands: [], changed: false, note: "nothing" };
  }
}

/** The store a KV bucket would be, in memory (pure unit test of the runner's order of things). */
class MemoryStore implements RecordStore<State, Command> {
  readonly records = new Map<string, StoredRecord<State, Command>>();
  saves = 0;
  /** Writes by "someone else" before our next save. */
  interfere = 0;

  async load(key: string) {
    return this.records.get(key);
  }
  async save(key: string, state: State, pending: readonly Command[], revision?: number) {
    const current = this.records.get(key);
    if (this.interfere > 0) {
      this.interfere--;
      const bumped = {
        state: { total: (current?.state.total ?? 0) + 100 },
        pending: [],
        revision: (current?.revision ?? 0) + 1,
      };
      this.records.set(key, bumped);
    }
    const now = this.records.get(key);
    if (now?.revision !== revision)
      throw new BgError("BG_ERR_KV_CONFLICT", {
        key,
        bucket: "mem",
        expected: revision ?? "absent",
      });
    this.saves++;
    const next = { state, pending: [...pending], revision: (revision ?? 0) + 1 };
    this.records.set(key, next);
    return next.revision;
  }
}

function runner(
  store: MemoryStore,
  log: string[],
  extra: Partial<TransitionSpec<State, Input, Command, object>> = {},
) {
  return new TransitionRunner<State, Input, Command, object>({
    store,
    decide: (s, i) => decide(s, i),
    context: () => ({}),
    carryOut: async (command, state) => {
      if (command.kind === "announce") {
        log.push(`announce ${command.total} (stored ${store.records.get("k")?.state.total})`);
        return undefined;
      }
      log.push(`question at ${state.total}`);
      return { kind: "add", n: 1 };
    },
    ...extra,
  });
}

describe("TransitionRunner", () => {
  it("stores the state with its commands before carrying them out", async () => {
    const store = new MemoryStore();
    const log: string[] = [];
    await runner(store, log).apply("k", { kind: "add", n: 2 });
    expect(log).toEqual(["announce 2 (stored 2)"]);
    expect(store.records.get("k")).toEqual({
      state: { total: 2 },
      pending: [{ kind: "announce", total: 2 }],
      revision: 1,
    });
  });

  it("feeds a command's answer back as the next input", async () => {
    const store = new MemoryStore();
    const log: string[] = [];
    await runner(store, log).apply("k", { kind: "ask" });
    expect(log).toEqual(["question at 0", "announce 1 (stored 1)"]);
    expect(store.records.get("k")?.revision).toBe(2);
  });

  it("runs one key's inputs in order, and writes nothing when nothing changed", async () => {
    const store = new MemoryStore();
    const log: string[] = [];
    const r = runner(store, log);
    await Promise.all([1, 2, 3].map((n) => r.apply("k", { kind: "add", n })));
    expect(log).toEqual([
      "announce 1 (stored 1)",
      "announce 3 (stored 3)",
      "announce 6 (stored 6)",
    ]);
    const saves = store.saves;
    expect((await r.apply("k", { kind: "noop" })).changed).toBe(false);
    expect(store.saves).toBe(saves);
  });

  it("decides again on a lost compare-and-set, from the record as stored", async () => {
    const store = new MemoryStore();
    const conflicts: number[] = [];
    const r = runner(store, [], { onConflict: (_k, attempt) => conflicts.push(attempt) });
    await r.apply("k", { kind: "add", n: 1 });
    store.interfere = 1;
    await r.apply("k", { kind: "add", n: 1 });
    expect(conflicts).toEqual([0]);
    expect(store.records.get("k")?.state.total).toBe(102);
  });

  it("gives up with BG_ERR_KV_CONFLICT after its retries", async () => {
    const store = new MemoryStore();
    const r = runner(store, [], { conflictRetries: 1 });
    store.interfere = 5;
    await expect(r.apply("k", { kind: "add", n: 1 })).rejects.toMatchObject({
      code: "BG_ERR_KV_CONFLICT",
    });
  });

  it("throws DeferredError for an input that came too early", async () => {
    await expect(
      runner(new MemoryStore(), []).apply("k", { kind: "early" }),
    ).rejects.toBeInstanceOf(DeferredError);
  });

  it("recovers by carrying out the stored pending commands, as pendingToFinish filters them", async () => {
    const store = new MemoryStore();
    store.records.set("k", {
      state: { total: 5 },
      pending: [
        { kind: "announce", total: 4 },
        { kind: "announce", total: 5 },
      ],
      revision: 7,
    });
    const log: string[] = [];
    const finishing: number[] = [];
    const r = runner(store, log, {
      pendingToFinish: async (stored) =>
        stored.pending.filter((c) => c.kind === "announce" && c.total === 5),
      onFinishing: (_k, _s, todo) => finishing.push(todo.length),
    });
    const held = await r.recover("k");
    expect(log).toEqual(["announce 5 (stored 5)"]);
    expect(finishing).toEqual([1]);
    expect(held).toMatchObject({ revision: 7, pendingDone: true });
    // Done once: the next input does not carry them out again.
    await r.apply("k", { kind: "noop" });
    expect(log).toHaveLength(1);
  });

  it("finishes a record's pending commands before deciding its next input", async () => {
    const store = new MemoryStore();
    store.records.set("k", {
      state: { total: 1 },
      pending: [{ kind: "announce", total: 1 }],
      revision: 1,
    });
    const log: string[] = [];
    await runner(store, log).apply("k", { kind: "add", n: 1 });
    expect(log).toEqual(["announce 1 (stored 1)", "announce 2 (stored 2)"]);
  });

  it("keeps a record unstored when shouldStore says so, and forgets it when a step fails", async () => {
    const store = new MemoryStore();
    let fail = false;
    const r = new TransitionRunner<State, Input, Command, object>({
      store,
      decide: (s, i) => decide(s, i),
      context: () => ({}),
      shouldStore: (held, decision) => held !== undefined && decision.changed,
      carryOut: async () => {
        if (fail) throw new Error("carry-out failed");
        return undefined;
      },
    });
    await r.apply("k", { kind: "add", n: 1 });
    expect(store.records.has("k")).toBe(false);
    expect(r.peek("k")).toMatchObject({ state: { total: 1 }, revision: undefined });
    fail = true;
    await expect(r.apply("k", { kind: "add", n: 1 })).rejects.toThrow("carry-out failed");
    expect(store.records.get("k")?.state.total).toBe(2);
    fail = false;
    r.forget("k");
    expect(r.peek("k")).toBeUndefined();
  });

  it("drops a never-stored record when its step fails", async () => {
    const r = new TransitionRunner<State, Input, Command, object>({
      store: new MemoryStore(),
      decide: (s, i) => decide(s, i),
      context: () => ({}),
      shouldStore: () => false,
      carryOut: async () => {
        throw new Error("boom");
      },
    });
    await expect(r.apply("k", { kind: "add", n: 1 })).rejects.toThrow("boom");
    expect(r.peek("k")).toBeUndefined();
  });
});
