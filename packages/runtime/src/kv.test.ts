import type { KV } from "nats";
import { describe, expect, it } from "vitest";
import { type CasRead, casUpdate, encodeJson } from "./kv.ts";

/** The few KV calls casUpdate makes, in memory, counting reads. */
class MemoryKv {
  readonly bucket = "mem";
  readonly entries = new Map<string, { value: Uint8Array; revision: number }>();
  private seq = 0;
  reads = 0;

  async get(key: string) {
    this.reads++;
    const entry = this.entries.get(key);
    return entry === undefined ? null : { key, operation: "PUT", ...entry };
  }
  async create(key: string, value: Uint8Array) {
    if (this.entries.has(key)) throw new Error("wrong last sequence: key exists");
    return this.put(key, value);
  }
  async update(key: string, value: Uint8Array, revision: number) {
    if (this.entries.get(key)?.revision !== revision) throw new Error("wrong last sequence");
    return this.put(key, value);
  }
  put(key: string, value: Uint8Array) {
    this.entries.set(key, { value, revision: ++this.seq });
    return this.seq;
  }
  json(key: string): unknown {
    const entry = this.entries.get(key);
    return entry === undefined ? undefined : JSON.parse(new TextDecoder().decode(entry.value));
  }
}

type Counter = { n: number };
const bump = (current: Counter | undefined): Counter => ({ n: (current?.n ?? 0) + 1 });

describe("casUpdate from a known value", () => {
  it("decides on what the caller knows and writes without reading", async () => {
    const mem = new MemoryKv();
    const revision = mem.put("k", encodeJson({ n: 1 }));
    mem.reads = 0;
    const result = await casUpdate(mem as unknown as KV, "k", bump, {
      known: { value: { n: 1 }, revision },
    });
    expect(result).toMatchObject({ changed: true, value: { n: 2 } });
    expect(mem.reads).toBe(0);
    expect(mem.json("k")).toEqual({ n: 2 });
  });

  it("reads again and decides again when what it knew was stale", async () => {
    const mem = new MemoryKv();
    mem.put("k", encodeJson({ n: 1 }));
    mem.put("k", encodeJson({ n: 5 }));
    mem.reads = 0;
    const result = await casUpdate(mem as unknown as KV, "k", bump, {
      known: { value: { n: 1 }, revision: 1 },
    });
    expect(result).toMatchObject({ changed: true, value: { n: 6 } });
    expect(mem.reads).toBe(1);
  });

  it("reads through `read`, so an unreadable value can be overwritten", async () => {
    const mem = new MemoryKv();
    mem.put("k", new TextEncoder().encode("not json"));
    const read = async (kv: KV, key: string): Promise<CasRead<Counter>> => {
      const entry = await kv.get(key);
      return { value: undefined, revision: entry?.revision };
    };
    const result = await casUpdate(mem as unknown as KV, "k", bump, { read });
    expect(result).toMatchObject({ changed: true, value: { n: 1 } });
    expect(mem.json("k")).toEqual({ n: 1 });
  });

  it("leaves the key alone when the function returns undefined, saying what it decided on", async () => {
    const mem = new MemoryKv();
    const known = { value: { n: 3 }, revision: 7 };
    const result = await casUpdate<Counter>(mem as unknown as KV, "k", () => undefined, { known });
    expect(result).toEqual({ changed: false, ...known });
    expect(mem.reads).toBe(0);
  });
});
