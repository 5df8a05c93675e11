import type { Logger } from "@bluegreen/runtime";
import type { KV } from "nats";
import { readIfExists, replaceFile, restore } from "./atomic-file.ts";
import { runCommand } from "./command.ts";
import type { SwitchPorts } from "./ports.ts";
import { probeColor } from "./probe.ts";
import { readActiveRecord, writeActiveRecord } from "./store.ts";
import { verifyThroughNginx } from "./verify.ts";

/** The real world behind SwitchPorts: the `bluegreen_active` bucket, the disk, execFile, HTTP. */

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
