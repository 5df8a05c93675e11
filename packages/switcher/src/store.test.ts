import type { ActiveRecord } from "@bluegreen/contracts";
import type { KV, KvEntry } from "nats";
import { describe, expect, it } from "vitest";
import { writeActiveRecord } from "./store.ts";

const natsError = (code: string) => Object.assign(new Error(code), { code });
const record: ActiveRecord = {
  color: "green",
  version: "v1.1",
  switchedAt: "2026-11-26T10:00:00.000Z",
  deploymentId: "d-1",
  reason: "promote",
  previous: { color: "blue", version: "v1.0" },
};

/**
 * A bucket holding `service` at revision 4, whose update fails with the given answers first;
 * an update that "fails" with TIMEOUT after `storedBy` still stores the value (a lost answer).
 */
function bucket(answers: string[], opts: { storedBy?: number } = {}) {
  let value: Uint8Array = new TextEncoder().encode("{}");
  let revision = 4;
  let calls = 0;
  const kv = {
    update: async (_key: string, next: Uint8Array, expected: number) => {
      calls++;
      if (expected !== revision) throw new Error("wrong last sequence: 5");
      const answer = answers.shift();
      if (answer !== undefined && calls !== opts.storedBy) throw natsError(answer);
      value = next;
      revision++;
      if (answer !== undefined) throw natsError(answer);
      return revision;
    },
    get: async () => ({ value, revision, operation: "PUT" }) as unknown as KvEntry,
  } as unknown as KV;
  return { kv, calls: () => calls };
}

describe("writeActiveRecord", () => {
  it("rides out a JetStream leader election (503) and stores the record", async () => {
    const b = bucket(["503", "503"]);
    expect(await writeActiveRecord(b.kv, "emily", record, 4, { retryForMs: 5_000 })).toBe(5);
    expect(b.calls()).toBe(3);
  }, 10_000);

  it("a retry that finds its own record stored (the answer was lost) counts as written", async () => {
    const b = bucket(["TIMEOUT"], { storedBy: 1 });
    expect(await writeActiveRecord(b.kv, "emily", record, 4, { retryForMs: 5_000 })).toBe(5);
  }, 10_000);

  it("a record someone else changed is a conflict, not retried", async () => {
    const b = bucket([]);
    await expect(writeActiveRecord(b.kv, "emily", record, 3)).rejects.toMatchObject({
      code: "BG_ERR_KV_CONFLICT",
    });
    expect(b.calls()).toBe(1);
  });
});
