import { BgError, Buckets, STREAM_NAME, STREAM_SUBJECTS } from "@bluegreen/contracts";
import {
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  nanos,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from "nats";
import type { Logger } from "./logger.ts";

export interface StreamOptions {
  /** How long the audit log keeps events (0 = forever). */
  maxAgeMs: number;
  replicas: number;
  logger?: Logger;
}

/** The window inside which a repeated `Nats-Msg-Id` is dropped as a duplicate. */
export const DUPLICATE_WINDOW_MS = 2 * 60_000;

/** The settings bluegreen owns on the BLUEGREEN stream. */
export function desiredStreamConfig(
  opts: Pick<StreamOptions, "maxAgeMs" | "replicas">,
): Partial<StreamConfig> {
  return {
    name: STREAM_NAME,
    subjects: [...STREAM_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(opts.maxAgeMs),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    num_replicas: opts.replicas,
    deny_delete: true,
    deny_purge: true,
  };
}

const COMPARED = [
  "max_age",
  "duplicate_window",
  "num_replicas",
  "deny_delete",
  "deny_purge",
  "retention",
  "discard",
] as const satisfies readonly (keyof StreamConfig)[];

/** The names of the settings that differ between a stored config and the wanted one. */
export function streamConfigDiff(
  current: Partial<StreamConfig>,
  wanted: Partial<StreamConfig>,
): string[] {
  const diff: string[] = COMPARED.filter((k) => current[k] !== wanted[k]);
  const have = [...(current.subjects ?? [])].sort().join(",");
  const want = [...(wanted.subjects ?? [])].sort().join(",");
  if (have !== want) diff.push("subjects");
  return diff;
}

export function isNotFound(err: unknown, what: "stream" | "consumer"): boolean {
  const e = err as { message?: string; api_error?: { err_code?: number; code?: number } };
  const code = e?.api_error?.err_code;
  if (what === "stream" && code === 10059) return true;
  if (what === "consumer" && code === 10014) return true;
  return typeof e?.message === "string" && e.message.includes(`${what} not found`);
}

export interface EnsureStreamResult {
  action: "created" | "updated" | "unchanged";
  changed: string[];
  info: StreamInfo;
}

/**
 * Creates the BLUEGREEN stream (the audit log: file storage, no delete, no purge, 2 min dedup
 * window), or updates it when the settings bluegreen owns differ. Storage cannot change after
 * creation; a memory stream found in place is reported and left alone.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  opts: StreamOptions,
): Promise<EnsureStreamResult> {
  const wanted = desiredStreamConfig(opts);
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(STREAM_NAME);
  } catch (err) {
    if (!isNotFound(err, "stream")) throw err;
    try {
      info = await jsm.streams.add(wanted);
      opts.logger?.info(
        { stream: STREAM_NAME, maxAgeMs: opts.maxAgeMs, replicas: opts.replicas },
        "stream created",
      );
      return { action: "created", changed: [], info };
    } catch (addErr) {
      // Another agent created it first: fall through to the comparison.
      info = await jsm.streams.info(STREAM_NAME).catch(() => {
        throw notSetUp(addErr, `the ${STREAM_NAME} stream`, "does not exist", "create");
      });
    }
  }
  if (info.config.storage !== StorageType.File) {
    opts.logger?.error(
      { stream: STREAM_NAME, storage: info.config.storage },
      "stream exists with memory storage; it cannot be changed in place, recreate it to keep the audit log on disk",
    );
  }
  const changed = streamConfigDiff(info.config, wanted);
  if (changed.length === 0) return { action: "unchanged", changed, info };
  const { storage: _storage, ...updatable } = wanted;
  info = await jsm.streams
    .update(STREAM_NAME, { ...info.config, ...updatable })
    .catch((err: unknown) => {
      const problem = `differs from this agent's nats.stream (${changed.join(", ")})`;
      throw notSetUp(err, `the ${STREAM_NAME} stream`, problem, "update");
    });
  opts.logger?.info({ stream: STREAM_NAME, changed }, "stream updated");
  return { action: "updated", changed, info };
}

/** Heartbeats expire from KV after this long (no per-key TTL on nats-server 2.9). */
export const AGENTS_MAX_AGE_MS = 60 * 60_000;
export const DEFAULT_HISTORY = 10;
/** Delivery records are kept a week: long enough to answer "was it sent?", no audit material. */
export const NOTIFICATIONS_MAX_AGE_MS = 7 * 24 * 60 * 60_000;

export type BucketName = keyof typeof Buckets;
export type BucketHandles = { readonly [K in BucketName]: KV };

export interface BucketSettings {
  history: number;
  /** 0 = values never expire. */
  maxAgeMs: number;
}

export function bucketSettings(name: BucketName): BucketSettings {
  if (name === "agents") return { history: 1, maxAgeMs: AGENTS_MAX_AGE_MS };
  if (name === "notifications") return { history: 1, maxAgeMs: NOTIFICATIONS_MAX_AGE_MS };
  return { history: DEFAULT_HISTORY, maxAgeMs: 0 };
}

async function ensureBucket(
  js: JetStreamClient,
  jsm: JetStreamManager,
  name: BucketName,
  opts: { replicas: number; logger?: Logger | undefined },
): Promise<KV> {
  const bucket = Buckets[name];
  const settings = bucketSettings(name);
  const kv = await js.views
    .kv(bucket, {
      history: settings.history,
      ttl: settings.maxAgeMs,
      replicas: opts.replicas,
      storage: StorageType.File,
    })
    .catch((err: unknown) => {
      throw notSetUp(err, `the ${bucket} bucket`, "could not be opened", "read or create");
    });
  const status = await kv.status();
  const config = status.streamInfo.config;
  const changes = bucketUpdates(config, settings, opts.replicas);
  if (changes !== undefined) {
    await jsm.streams.update(config.name, { ...config, ...changes }).catch((err: unknown) => {
      const problem = `differs from this agent's settings (${Object.keys(changes).join(", ")})`;
      throw notSetUp(err, `the ${bucket} bucket`, problem, "update");
    });
    opts.logger?.info({ bucket, ...settings, replicas: opts.replicas }, "bucket settings updated");
  }
  return kv;
}

/**
 * What to change on an existing bucket's stream: history and age when they differ, and the
 * replicas when fewer than wanted. Replicas are only ever raised: an agent configured with the
 * default (1), or `bluegreen apply` creating the buckets first, must not scale a replicated
 * bucket down (lowering them is an operator's decision, made with the nats CLI).
 */
export function bucketUpdates(
  config: Pick<StreamConfig, "max_msgs_per_subject" | "max_age" | "num_replicas">,
  settings: BucketSettings,
  replicas: number,
): Partial<StreamConfig> | undefined {
  const changes: Partial<StreamConfig> = {};
  const maxAge = nanos(settings.maxAgeMs);
  if (config.max_msgs_per_subject !== settings.history || config.max_age !== maxAge) {
    changes.max_msgs_per_subject = settings.history;
    changes.max_age = maxAge;
  }
  if ((config.num_replicas ?? 1) < replicas) changes.num_replicas = replicas;
  return Object.keys(changes).length === 0 ? undefined : changes;
}

/**
 * A refused create or update of the stream or a bucket (a least-permission user: only the
 * coordinator and the operator may): coded, with what to do. Other errors pass unchanged.
 */
function notSetUp(err: unknown, what: string, problem: string, action: string): unknown {
  if ((err as { code?: unknown } | undefined)?.code !== "PERMISSIONS_VIOLATION") return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new BgError("BG_ERR_NATS_NOT_SET_UP", { what, problem, action, reason }, { cause: err });
}

/** Creates or opens every bluegreen KV bucket and returns a handle per bucket. */
export async function ensureBuckets(
  js: JetStreamClient,
  opts: { replicas: number; logger?: Logger },
): Promise<BucketHandles> {
  const jsm = await js.jetstreamManager();
  const names = Object.keys(Buckets) as BucketName[];
  const handles = await Promise.all(names.map((name) => ensureBucket(js, jsm, name, opts)));
  return Object.freeze(
    Object.fromEntries(names.map((name, i) => [name, handles[i]])),
  ) as BucketHandles;
}
