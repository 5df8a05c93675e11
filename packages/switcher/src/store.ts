import { isDeepStrictEqual } from "node:util";
import { type ActiveRecord, activeRecordSchema, BgError } from "@bluegreen/contracts";
import {
  createJson,
  keysOf,
  type Logger,
  type RecordStore,
  readJson,
  retryTransient,
  type StoredRecord,
  updateJson,
} from "@bluegreen/runtime";
import type { KV } from "nats";
import type { ActiveState } from "./decide.ts";

/**
 * The records the switcher owns: the active colour of each service (bucket `bluegreen_active`,
 * key = service), the switch fence. The only code that reads, parses and writes them; the CLI
 * and the dashboard read them through `ActiveStore`. Also the store of the transition runner's
 * own records (what this switcher answered), which live in memory: see `MemoryRecordStore`.
 */

export async function readActiveRecord(kv: KV, service: string): Promise<ActiveState> {
  const entry = await readJson<ActiveRecord>(kv, service, activeRecordSchema);
  return entry === undefined
    ? { record: undefined, revision: 0 }
    : { record: entry.value, revision: entry.revision };
}

/**
 * How long writing the record rides out JetStream being unavailable: nginx already serves the
 * new colour when it is written, and an R3 bucket that lost its leader answers "no responders"
 * for about 5 s while the cluster elects another. Well inside the default 30 s switch_timeout.
 */
export const RECORD_RETRY_MS = 15_000;

/**
 * Compare-and-set of the active record, tried again on transient NATS errors. An attempt after
 * the first that meets a conflict reads the record back: if it is the very record we wrote, an
 * earlier attempt was stored and only its answer was lost.
 */
export async function writeActiveRecord(
  kv: KV,
  service: string,
  record: ActiveRecord,
  expectedRevision: number,
  opts: { retryForMs?: number; logger?: Logger } = {},
): Promise<number> {
  const value = activeRecordSchema.parse(record);
  return retryTransient(
    async (attempt) => {
      try {
        return expectedRevision === 0
          ? await createJson(kv, service, value)
          : await updateJson(kv, service, value, expectedRevision);
      } catch (err) {
        if (attempt > 1 && err instanceof BgError && err.code === "BG_ERR_KV_CONFLICT") {
          const stored = await readActiveRecord(kv, service);
          if (isDeepStrictEqual(stored.record, value)) return stored.revision;
        }
        throw err;
      }
    },
    {
      forMs: opts.retryForMs ?? RECORD_RETRY_MS,
      onRetry: (err, attempt, delayMs) =>
        opts.logger?.warn(
          { service, attempt, retryInMs: delayMs, reason: (err as Error).message },
          "active colour not recorded yet; retrying",
        ),
    },
  );
}

/** Read access to the active records, for readers that do not switch (CLI, dashboard). */
export class ActiveStore {
  constructor(readonly kv: KV) {}

  /** The record and its revision; undefined when the service has none (or it does not parse). */
  async get(service: string): Promise<{ record: ActiveRecord; revision: number } | undefined> {
    try {
      const state = await readActiveRecord(this.kv, service);
      return state.record === undefined
        ? undefined
        : { record: state.record, revision: state.revision };
    } catch {
      return undefined;
    }
  }

  /** The services that have a record. */
  services(): Promise<string[]> {
    return keysOf(this.kv);
  }
}

/**
 * The transition runner's records, kept in this process only: what the switcher answered for
 * each service, and the switch in progress. Nothing of it needs to outlive the process: a
 * request redelivered after a restart is decided again from the active record (its fence, or
 * the record it wrote itself), so storing it in KV would only add a bucket. Compare-and-set on
 * the revision all the same, as a KV store would.
 */
export class MemoryRecordStore<S, C> implements RecordStore<S, C> {
  private readonly records = new Map<string, StoredRecord<S, C>>();

  async load(key: string): Promise<StoredRecord<S, C> | undefined> {
    return this.records.get(key);
  }

  async save(
    key: string,
    state: S,
    pending: readonly C[],
    revision: number | undefined,
  ): Promise<number> {
    const current = this.records.get(key)?.revision;
    if (current !== revision) {
      throw new BgError("BG_ERR_KV_CONFLICT", {
        key,
        bucket: "memory",
        expected: revision ?? "absent",
      });
    }
    const next = (revision ?? 0) + 1;
    this.records.set(key, { state, pending, revision: next });
    return next;
  }
}
