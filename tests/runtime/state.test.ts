// Given a real nats-server: the audit stream's guarantees and the KV helpers' compare-and-set.

import { BgError, Buckets, STREAM_NAME } from "@bluegreen/contracts";
import {
  type BucketHandles,
  casUpdate,
  createJson,
  ensureBuckets,
  ensureStream,
  readJson,
  updateJson,
} from "@bluegreen/runtime";
import { nanos } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { deployRequested, type Fixture, startFixture } from "./helpers.ts";

let fx: Fixture;
let kv: BucketHandles;
beforeAll(async () => {
  fx = await startFixture();
  kv = await ensureBuckets(fx.bus.js, { replicas: 1 });
});
afterAll(async () => {
  await fx?.close();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return err instanceof BgError ? err.code : `not a BgError: ${String(err)}`;
  }
  return "no error";
}

describe("the BLUEGREEN stream", () => {
  it("refuses to delete or purge: it is the audit log", async () => {
    const { seq } = await fx.bus.publish(deployRequested("audit", "v1.0"));
    const jsm = await fx.nc.jetstreamManager();
    await expect(jsm.streams.deleteMessage(STREAM_NAME, seq)).rejects.toThrow();
    await expect(jsm.streams.purge(STREAM_NAME)).rejects.toThrow();
    expect((await jsm.streams.getMessage(STREAM_NAME, { seq })).seq).toBe(seq);
  });

  it("is left alone when unchanged and updated when the max age changes", async () => {
    const jsm = await fx.nc.jetstreamManager();
    expect((await ensureStream(jsm, { maxAgeMs: 3_600_000, replicas: 1 })).action).toBe(
      "unchanged",
    );
    const updated = await ensureStream(jsm, { maxAgeMs: 7_200_000, replicas: 1 });
    expect(updated).toMatchObject({ action: "updated", changed: ["max_age"] });
    const info = await jsm.streams.info(STREAM_NAME);
    expect(info.config).toMatchObject({
      max_age: nanos(7_200_000),
      deny_delete: true,
      deny_purge: true,
      duplicate_window: nanos(120_000),
    });
  });
});

describe("KV buckets", () => {
  it("exist with their history and age limits", async () => {
    const agents = await kv.agents.status();
    expect(agents).toMatchObject({ bucket: Buckets.agents, history: 1, ttl: 3_600_000 });
    expect((await kv.deployments.status()).history).toBe(10);
    const again = await ensureBuckets(fx.bus.js, { replicas: 1 });
    expect(Object.keys(again).sort()).toEqual(Object.keys(Buckets).sort());
  });

  it("updateJson with a stale revision fails with BG_ERR_KV_CONFLICT", async () => {
    const first = await createJson(kv.active, "emily", { color: "blue", version: "v1.0" });
    const second = await updateJson(kv.active, "emily", { color: "green", version: "v1.1" }, first);
    expect(second).toBeGreaterThan(first);
    expect(await codeOf(updateJson(kv.active, "emily", { color: "blue" }, first))).toBe(
      "BG_ERR_KV_CONFLICT",
    );
    expect(await readJson(kv.active, "emily")).toEqual({
      value: { color: "green", version: "v1.1" },
      revision: second,
    });
  });

  it("createJson fails with BG_ERR_KV_CONFLICT when the key exists, and works after a delete", async () => {
    await createJson(kv.locks, "svc", { holder: "a" });
    expect(await codeOf(createJson(kv.locks, "svc", { holder: "b" }))).toBe("BG_ERR_KV_CONFLICT");
    await kv.locks.delete("svc");
    expect(await readJson(kv.locks, "svc")).toBeUndefined();
    await createJson(kv.locks, "svc", { holder: "b" });
    expect((await readJson(kv.locks, "svc"))?.value).toEqual({ holder: "b" });
  });

  it("readJson validates with a schema", async () => {
    await createJson(kv.watches, "typed", { window: "30m" });
    const schema = z.object({ window: z.number() });
    await expect(readJson(kv.watches, "typed", schema)).rejects.toThrow();
  });

  it("casUpdate serialises concurrent read-modify-writes", async () => {
    const bump = () =>
      casUpdate<{ n: number }>(kv.results, "counter", (current) => ({ n: (current?.n ?? 0) + 1 }), {
        retries: 20,
      });
    await Promise.all(Array.from({ length: 8 }, bump));
    expect((await readJson<{ n: number }>(kv.results, "counter"))?.value).toEqual({ n: 8 });
  });

  it("casUpdate leaves the key alone when the function returns undefined", async () => {
    const result = await casUpdate(kv.results, "untouched", () => undefined);
    expect(result).toEqual({ changed: false, value: undefined, revision: undefined });
    expect(await readJson(kv.results, "untouched")).toBeUndefined();
  });

  it("casUpdate gives up with BG_ERR_KV_CONFLICT after its retries", async () => {
    await createJson(kv.results, "contended", { n: 0 });
    let calls = 0;
    const result = casUpdate<{ n: number }>(
      kv.results,
      "contended",
      async (current) => {
        calls++;
        // Another writer always gets there first.
        const now = await readJson<{ n: number }>(kv.results, "contended");
        await updateJson(
          kv.results,
          "contended",
          { n: (now?.value.n ?? 0) + 100 },
          now?.revision ?? 0,
        );
        return { n: (current?.n ?? 0) + 1 };
      },
      { retries: 2 },
    );
    expect(await codeOf(result)).toBe("BG_ERR_KV_CONFLICT");
    expect(calls).toBe(3);
  });
});
