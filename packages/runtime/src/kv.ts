import { BgError } from "@bluegreen/contracts";
import type { KV, KvEntry } from "nats";
import type { z } from "zod";

/** A JSON value stored under a key, with the revision to compare-and-set against. */
export interface Revisioned<T> {
  value: T;
  revision: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** A missing key, a deleted key and a purged key all read as "nothing there". */
export function isLive(entry: KvEntry | null): entry is KvEntry {
  return entry !== null && entry.operation === "PUT";
}

/** JetStream's "wrong last sequence" (10071): the key changed since the revision we hold. */
export function isWrongLastSequence(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return (
    e?.api_error?.err_code === 10071 ||
    (typeof e?.message === "string" && e.message.includes("wrong last sequence"))
  );
}

function conflict(kv: KV, key: string, expected: number | string, cause?: unknown): BgError {
  const bucket = (kv as { bucket?: string }).bucket ?? "(bucket)";
  return new BgError("BG_ERR_KV_CONFLICT", { key, bucket, expected }, { cause });
}

function decode<T>(entry: KvEntry, schema?: z.ZodType<T>): T {
  const json: unknown = JSON.parse(decoder.decode(entry.value));
  return schema === undefined ? (json as T) : schema.parse(json);
}

/** Reads and parses a key; undefined when the key is absent or deleted. */
export async function readJson<T = unknown>(
  kv: KV,
  key: string,
  schema?: z.ZodType<T>,
): Promise<Revisioned<T> | undefined> {
  const entry = await kv.get(key);
  if (!isLive(entry)) return undefined;
  return { value: decode(entry, schema), revision: entry.revision };
}

/** Writes a key that must not exist yet (a deleted key counts as absent). */
export async function createJson(kv: KV, key: string, value: unknown): Promise<number> {
  try {
    return await kv.create(key, encodeJson(value));
  } catch (err) {
    if (isWrongLastSequence(err)) throw conflict(kv, key, "absent", err);
    throw err;
  }
}

/** Compare-and-set: writes only when the key is still at `expectedRevision`. */
export async function updateJson(
  kv: KV,
  key: string,
  value: unknown,
  expectedRevision: number,
): Promise<number> {
  try {
    return await kv.update(key, encodeJson(value), expectedRevision);
  } catch (err) {
    if (isWrongLastSequence(err)) throw conflict(kv, key, expectedRevision, err);
    throw err;
  }
}

/** A key as `casUpdate` decides on it: its value (undefined: none) and revision (undefined: absent). */
export interface CasRead<T> {
  value: T | undefined;
  revision: number | undefined;
}

export interface CasUpdateOptions<T> {
  /** Attempts after the first one when another writer got there first. Default 5. */
  retries?: number;
  schema?: z.ZodType<T>;
  /**
   * What the caller last read or wrote: the first attempt decides on it without reading (a
   * stale revision loses the compare-and-set, and the key is read again).
   */
  known?: CasRead<T>;
  /**
   * How the key is read (default: `readJson` with `schema`, a missing or deleted key as
   * absent); e.g. one that takes an unreadable value for none, so that it is overwritten.
   */
  read?: (kv: KV, key: string) => Promise<CasRead<T>>;
}

async function readForCas<T>(kv: KV, key: string, schema?: z.ZodType<T>): Promise<CasRead<T>> {
  const entry = await readJson<T>(kv, key, schema);
  return { value: entry?.value, revision: entry?.revision };
}

export type CasResult<T> =
  | { changed: true; value: T; revision: number }
  | { changed: false; value: T | undefined; revision: number | undefined };

/**
 * Read-modify-write with compare-and-set. `fn` gets the current value (undefined when absent)
 * and returns the next value, or undefined to leave the key as it is. On a concurrent change
 * the key is read again and `fn` runs again; after `retries` lost races BG_ERR_KV_CONFLICT.
 * The first attempt may start from a value the caller knows (`known`), saving the read.
 */
export async function casUpdate<T>(
  kv: KV,
  key: string,
  fn: (current: T | undefined) => T | undefined | Promise<T | undefined>,
  opts: CasUpdateOptions<T> = {},
): Promise<CasResult<T>> {
  const retries = opts.retries ?? 5;
  let lastError: BgError | undefined;
  const read = opts.read ?? ((kv: KV, key: string) => readForCas(kv, key, opts.schema));
  for (let attempt = 0; attempt <= retries; attempt++) {
    const current = attempt === 0 && opts.known !== undefined ? opts.known : await read(kv, key);
    const next = await fn(current.value);
    if (next === undefined)
      return { changed: false, value: current.value, revision: current.revision };
    try {
      const revision =
        current.revision === undefined
          ? await createJson(kv, key, next)
          : await updateJson(kv, key, next, current.revision);
      return { changed: true, value: next, revision };
    } catch (err) {
      if (!(err instanceof BgError && err.code === "BG_ERR_KV_CONFLICT")) throw err;
      lastError = err;
    }
  }
  throw lastError ?? conflict(kv, key, "unknown");
}

/** The keys of a bucket (those matching `filter`, e.g. `emily.*`), sorted. */
export async function keysOf(kv: KV, filter?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const key of await kv.keys(filter)) out.push(key);
  return out.sort();
}
