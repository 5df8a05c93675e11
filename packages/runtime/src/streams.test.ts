import { Buckets, STREAM_NAME } from "@bluegreen/contracts";
import { nanos, StorageType } from "nats";
import { describe, expect, it } from "vitest";
import {
  bucketSettings,
  bucketUpdates,
  desiredStreamConfig,
  isNotFound,
  streamConfigDiff,
} from "./streams.ts";

describe("desiredStreamConfig", () => {
  it("is the audit log: file storage, no delete, no purge, a 2 min dedup window", () => {
    const cfg = desiredStreamConfig({ maxAgeMs: 90 * 86_400_000, replicas: 3 });
    expect(cfg).toMatchObject({
      name: STREAM_NAME,
      subjects: ["bluegreen.>"],
      storage: StorageType.File,
      deny_delete: true,
      deny_purge: true,
      duplicate_window: nanos(120_000),
      max_age: nanos(90 * 86_400_000),
      num_replicas: 3,
    });
  });
});

describe("streamConfigDiff", () => {
  it("names exactly the settings that differ", () => {
    const wanted = desiredStreamConfig({ maxAgeMs: 1_000, replicas: 1 });
    expect(streamConfigDiff(wanted, wanted)).toEqual([]);
    const current = { ...wanted, max_age: nanos(5_000), deny_purge: false, subjects: ["other.>"] };
    expect(streamConfigDiff(current, wanted)).toEqual(["max_age", "deny_purge", "subjects"]);
  });
});

describe("bucketSettings", () => {
  it("keeps one heartbeat per agent for an hour, and history elsewhere", () => {
    expect(bucketSettings("agents")).toEqual({ history: 1, maxAgeMs: 3_600_000 });
    for (const name of Object.keys(Buckets) as (keyof typeof Buckets)[]) {
      if (name !== "agents" && name !== "notifications")
        expect(bucketSettings(name)).toEqual({ history: 10, maxAgeMs: 0 });
    }
  });

  it("keeps one version of each notifier delivery for a week", () => {
    expect(bucketSettings("notifications")).toEqual({ history: 1, maxAgeMs: 7 * 86_400_000 });
  });
});

describe("bucketUpdates", () => {
  const settings = bucketSettings("locks");
  const stored = { max_msgs_per_subject: 10, max_age: 0, num_replicas: 1 };

  it("changes nothing on a bucket as wanted", () => {
    expect(bucketUpdates(stored, settings, 1)).toBeUndefined();
    expect(bucketUpdates({ ...stored, num_replicas: 3 }, settings, 3)).toBeUndefined();
  });

  it("raises the replicas of a bucket created with fewer (by `apply`, or by an older agent)", () => {
    expect(bucketUpdates(stored, settings, 3)).toEqual({ num_replicas: 3 });
  });

  it("never lowers them: an agent left at the default does not scale a replicated bucket down", () => {
    expect(bucketUpdates({ ...stored, num_replicas: 3 }, settings, 1)).toBeUndefined();
  });

  it("restores history and age, keeping the replicas", () => {
    expect(bucketUpdates({ ...stored, max_msgs_per_subject: 1 }, settings, 1)).toEqual({
      max_msgs_per_subject: 10,
      max_age: 0,
    });
  });
});

describe("isNotFound", () => {
  it("recognises JetStream's not-found errors by code or message", () => {
    expect(isNotFound({ api_error: { err_code: 10059 } }, "stream")).toBe(true);
    expect(isNotFound({ api_error: { err_code: 10014 } }, "consumer")).toBe(true);
    expect(isNotFound(new Error("consumer not found"), "consumer")).toBe(true);
    expect(isNotFound(new Error("timeout"), "stream")).toBe(false);
  });
});
