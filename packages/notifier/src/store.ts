import type { RecordStore, StoredRecord } from "@bluegreen/runtime";
import { createJson, readJson, updateJson } from "@bluegreen/runtime";
import type { KV } from "nats";
import type { Delivery, DeliveryCommand } from "./decide.ts";

/**
 * The delivery records in `bluegreen_notifications`, key `<sink>.<event id>`: the only code that
 * reads, writes and parses them. A record is the delivery and the commands of its last step.
 */

interface StoredDelivery {
  delivery: Delivery;
  pending: readonly DeliveryCommand[];
}

function isDelivery(value: unknown): value is StoredDelivery {
  const v = value as Partial<StoredDelivery> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.delivery?.sink === "string" &&
    typeof v.delivery.eventId === "string" &&
    typeof v.delivery.status === "string" &&
    Array.isArray(v.pending)
  );
}

export class DeliveryStore implements RecordStore<Delivery, DeliveryCommand> {
  constructor(private readonly kv: KV) {}

  async load(key: string): Promise<StoredRecord<Delivery, DeliveryCommand> | undefined> {
    const entry = await readJson<unknown>(this.kv, key);
    if (entry === undefined || !isDelivery(entry.value)) return undefined;
    return { state: entry.value.delivery, pending: entry.value.pending, revision: entry.revision };
  }

  async save(
    key: string,
    state: Delivery,
    pending: readonly DeliveryCommand[],
    revision: number | undefined,
  ): Promise<number> {
    const value: StoredDelivery = { delivery: state, pending };
    return revision === undefined
      ? createJson(this.kv, key, value)
      : updateJson(this.kv, key, value, revision);
  }
}

/** Every delivery in the bucket (unreadable values skipped), newest first. */
export async function listDeliveries(kv: KV): Promise<{ key: string; delivery: Delivery }[]> {
  const keys: string[] = [];
  for await (const key of await kv.keys()) keys.push(key);
  const out: { key: string; delivery: Delivery }[] = [];
  for (const key of keys) {
    const entry = await kv.get(key);
    if (entry === null || entry.operation !== "PUT") continue;
    try {
      const value: unknown = JSON.parse(new TextDecoder().decode(entry.value));
      if (isDelivery(value)) out.push({ key, delivery: value.delivery });
    } catch {
      // not a delivery record: skipped
    }
  }
  return out.sort((a, b) => b.delivery.updatedAt - a.delivery.updatedAt);
}
