import { Buckets, type FreezeRecord, freezeKey, freezeRecordSchema } from "@bluegreen/contracts";
import { keysOf, readJson } from "@bluegreen/runtime";
import type { JetStreamClient, KV } from "nats";
import { openBucket } from "./buckets.ts";

/**
 * The deploy freezes in `bluegreen_locks` (`_freeze.<service>`, `_freeze._all`), keyed by
 * service (`_all` for every service). Unreadable records are left out, as the coordinator does.
 */
export async function readFreezes(js: JetStreamClient): Promise<Map<string, FreezeRecord>> {
  const kv = await openBucket(js, Buckets.locks);
  const out = new Map<string, FreezeRecord>();
  if (kv === undefined) return out;
  for (const key of await keysOf(kv, `${freezeKey("*")}`)) {
    const record = await readFreeze(kv, key);
    if (record !== undefined) out.set(key.slice(freezeKey("").length), record);
  }
  return out;
}

async function readFreeze(kv: KV, key: string): Promise<FreezeRecord | undefined> {
  try {
    return (await readJson(kv, key, freezeRecordSchema))?.value;
  } catch {
    return undefined;
  }
}

/** `frozen by alice@ops-1 until 2026-11-30T08:00:00.000Z: incident 4711`. */
export function describeFreeze(freeze: FreezeRecord): string {
  const scope = freeze.scope === "all" ? " (every service)" : "";
  return `frozen${scope} by ${freeze.by} until ${freeze.until ?? "lifted"}: ${freeze.reason}`;
}
