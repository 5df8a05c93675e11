import type { ActiveRecord, Color, EventDataInput } from "@bluegreen/contracts";
import type { Logger } from "@bluegreen/runtime";
import type { SwitchDefinition } from "./decide.ts";
import { type DriftMode, driftAction } from "./drift.ts";
import { nginxSteps } from "./nginx.ts";
import type { NginxSettings, SwitchPorts } from "./ports.ts";
import { colorOfFile } from "./upstream-file.ts";

/**
 * The drift check of one service, at start-up and while running: read the file and the
 * record, decide, act. While running, what nginx serves is looked at too (`served`). Answers
 * the data of the `switch.drift` event to publish, or undefined when they agree.
 */

export type DriftReport = EventDataInput<"switch.drift">;

export interface DriftCheckOptions {
  mode: DriftMode;
  nginx: NginxSettings;
  logger?: Logger | undefined;
  /** While running: agreement is logged at debug, and what nginx serves is checked too. */
  running?: boolean;
  /** Cuts the looks at what nginx serves short (no drift then): a switch is waiting. */
  signal?: AbortSignal;
}

export async function checkDrift(
  def: SwitchDefinition,
  ports: SwitchPorts,
  opts: DriftCheckOptions,
): Promise<DriftReport | undefined> {
  const file = def.traffic.file;
  const log = opts.logger;
  const state = await ports.readActive(def.service);
  const content = await ports.readFile(file);
  const found: Color | null = content === undefined ? null : colorOfFile(content, def).color;
  const recorded: Color | null = state.record?.color ?? null;
  const action = driftAction(opts.mode, recorded, found);
  const report = (done: DriftReport["action"]): DriftReport => ({
    file,
    recorded,
    found,
    action: done,
    ...(opts.running ? { while: "running" as const } : {}),
  });

  switch (action) {
    case "none":
      if (opts.running && recorded !== null && ports.served !== undefined)
        return servedDrift(def, ports, opts, { recorded, content, report });
      log?.info({ file, color: recorded }, "upstream file matches the recorded active colour");
      return undefined;
    case "report":
      log?.warn(
        { file, recorded, found, mode: opts.mode },
        "drift: upstream file and record differ",
      );
      return report("reported");
    case "adopt": {
      const adopted = found as Color;
      // The file may have been edited without a reload: make nginx serve it, verified.
      const applied = await nginxSteps(def, adopted, ports, opts.nginx, {
        previous: content,
        write: false,
        verifyTimeoutMs: def.traffic.verify.timeout,
        logger: log,
      });
      if (!applied.ok) {
        log?.error(
          { file, recorded, found, stage: applied.stage, code: applied.error.code },
          `drift: could not adopt the upstream file: ${applied.error.message}`,
        );
        return report("reported");
      }
      const previous = state.record;
      const record: ActiveRecord = {
        color: adopted,
        version: previous?.previous?.color === adopted ? previous.previous.version : null,
        switchedAt: ports.now().toISOString(),
        reason: previous === undefined ? "initial" : "adopted",
        previous:
          previous === undefined ? null : { color: previous.color, version: previous.version },
      };
      try {
        const revision = await ports.writeActive(def.service, record, state.revision);
        log?.warn({ file, recorded, found, revision }, "drift: adopted the upstream file's colour");
        return report("adopted");
      } catch (err) {
        log?.error({ err, file, recorded, found }, "drift: could not record the file's colour");
        return report("reported");
      }
    }
    case "reapply": {
      const target = recorded as Color;
      const applied = await nginxSteps(def, target, ports, opts.nginx, {
        previous: content,
        verifyTimeoutMs: def.traffic.verify.timeout,
        logger: log,
      });
      if (applied.ok) {
        log?.warn(
          { file, recorded, found, timings: applied.timings },
          "drift: re-applied the record",
        );
        return report("reapplied");
      }
      log?.error(
        {
          file,
          recorded,
          found,
          stage: applied.stage,
          code: applied.error.code,
          restored: applied.restored,
        },
        `drift: could not re-apply the record: ${applied.error.message}`,
      );
      return report("reported");
    }
  }
}

/**
 * The file matches the record, yet nginx answers the verify URL from the other colour (a
 * hand-edited file reloaded and put back, a site pinned by hand): `reapply` reloads nginx
 * with the file and verifies; `adopt` and `report` only report (the record already follows
 * the file). An answer that names no colour tells nothing: no drift.
 */
async function servedDrift(
  def: SwitchDefinition,
  ports: SwitchPorts,
  opts: DriftCheckOptions,
  found: {
    recorded: Color;
    content: string | undefined;
    report: (done: DriftReport["action"]) => DriftReport;
  },
): Promise<DriftReport | undefined> {
  const log = opts.logger;
  const file = def.traffic.file;
  const served = await ports.served?.(def.traffic.verify.url, def, {
    expected: found.recorded,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  if (served === null || served === undefined || served === found.recorded) {
    log?.debug({ file, color: found.recorded, served }, "no drift");
    return undefined;
  }
  const at = { file, recorded: found.recorded, served, mode: opts.mode };
  const reported = { ...found.report("reported"), served };
  if (opts.mode !== "reapply") {
    log?.warn(at, "drift: nginx serves another colour than the file and the record");
    return reported;
  }
  const applied = await nginxSteps(def, found.recorded, ports, opts.nginx, {
    previous: found.content,
    write: false,
    verifyTimeoutMs: def.traffic.verify.timeout,
    logger: log,
  });
  if (applied.ok) {
    log?.warn(at, "drift: nginx served another colour; reloaded with the file");
    return { ...found.report("reapplied"), served };
  }
  log?.error(
    { ...at, stage: applied.stage, code: applied.error.code },
    `drift: could not make nginx serve the record: ${applied.error.message}`,
  );
  return reported;
}
