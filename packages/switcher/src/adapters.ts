import { isDeepStrictEqual } from "node:util";
import { type ActiveRecord, activeRecordSchema, BgError } from "@bluegreen/contracts";
import { createJson, type Logger, readJson, retryTransient, updateJson } from "@bluegreen/runtime";
import type { KV } from "nats";
import { readIfExists, replaceFile, restore } from "./atomic-file.ts";
import { runCommand } from "./command.ts";
import type { ActiveState } from "./decide.ts";
import type { SwitchPorts } from "./ports.ts";
import { probeColor } from "./probe.ts";
import { verifyThroughNginx } from "./verify.ts";

/** The real world behind SwitchPorts: the `bluegreen_active` bucket, the disk, execFile, HTTP. */

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

export function realPorts(activeKv: KV, logger?: Logger): SwitchPorts {
  return {
    readActive: (service) => readActiveRecord(activeKv, service),
    writeActive: (service, record, expected) =>
      writeActiveRecord(
        activeKv,
        service,
        record,
        expected,
        logger === undefined ? {} : { logger },
      ),
    readFile: readIfExists,
    writeFile: replaceFile,
    restoreFile: restore,
    runCommand,
    probe: (def, color) => probeColor(def, color),
    verify: (url, def, color, opts) => verifyThroughNginx(url, def, color, opts),
    now: () => new Date(),
  };
}
