import { type ActiveRecord, activeRecordSchema } from "@bluegreen/contracts";
import { createJson, readJson, updateJson } from "@bluegreen/runtime";
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

export async function writeActiveRecord(
  kv: KV,
  service: string,
  record: ActiveRecord,
  expectedRevision: number,
): Promise<number> {
  const value = activeRecordSchema.parse(record);
  return expectedRevision === 0
    ? createJson(kv, service, value)
    : updateJson(kv, service, value, expectedRevision);
}

export function realPorts(activeKv: KV): SwitchPorts {
  return {
    readActive: (service) => readActiveRecord(activeKv, service),
    writeActive: (service, record, expected) =>
      writeActiveRecord(activeKv, service, record, expected),
    readFile: readIfExists,
    writeFile: replaceFile,
    restoreFile: restore,
    runCommand,
    probe: (def, color) => probeColor(def, color),
    verify: (url, def, color, opts) => verifyThroughNginx(url, def, color, opts),
    now: () => new Date(),
  };
}
