import type { Color } from "@bluegreen/contracts";
import { type Logger, sleep } from "@bluegreen/runtime";
import type { KV } from "nats";
import { readIfExists, replaceFile, restore } from "./atomic-file.ts";
import { runCommand } from "./command.ts";
import type { ServedOptions, SwitchPorts } from "./ports.ts";
import { getOnce, probeColor } from "./probe.ts";
import { readActiveRecord, writeActiveRecord } from "./store.ts";
import { colorOfAnswer, type NodesSpec, verifyThroughNginx } from "./verify.ts";

/** What nginx serves, for the running drift check: each look's timeout, looks, pause. */
const SERVED_TIMEOUT_MS = 2_000;
const SERVED_LOOKS = 3;
const SERVED_PAUSE_MS = 250;

/**
 * The colour nginx answers with, when several looks a moment apart agree: right after a
 * reload an old worker may still take a connection or two with the previous file, which is
 * not drift. Null when an answer names no colour, the looks disagree, or `signal` aborts
 * (a switch is waiting for the service's turn). A first answer from `expected` (the recorded
 * colour: no drift) is taken at once: the looks run in the service's turn, and a switch
 * queued behind them would wait their pauses out.
 */
export async function servedColor(
  url: string,
  def: NodesSpec,
  opts: ServedOptions = {},
): Promise<Color | null> {
  let seen: Color | null = null;
  for (let look = 0; look < SERVED_LOOKS; look++) {
    if (look > 0) await sleep(SERVED_PAUSE_MS, opts.signal);
    if (opts.signal?.aborted) return null;
    const answer = await getOnce(url, SERVED_TIMEOUT_MS, opts.signal);
    const color = answer.kind === "error" ? null : colorOfAnswer(answer, def);
    if (opts.signal?.aborted || color === null || (seen !== null && color !== seen)) return null;
    if (look === 0 && color === opts.expected) return color;
    seen = color;
  }
  return seen;
}

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
    served: (url, def, opts) => servedColor(url, def, opts),
    now: () => new Date(),
  };
}
