import type { ActiveRecord, Color, EventDataInput } from "@bluegreen/contracts";
import type { Logger } from "@bluegreen/runtime";
import type { SwitchDefinition } from "./decide.ts";
import { type DriftMode, driftAction } from "./drift.ts";
import { nginxSteps } from "./nginx.ts";
import type { NginxSettings, SwitchPorts } from "./ports.ts";
import { colorOfFile } from "./upstream-file.ts";

/**
 * The start-up drift check of one service: read the file and the record, decide, act.
 * Answers the data of the `switch.drift` event to publish, or undefined when they agree.
 */

export type DriftReport = EventDataInput<"switch.drift">;

export interface DriftCheckOptions {
  mode: DriftMode;
  nginx: NginxSettings;
  logger?: Logger | undefined;
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
  });

  switch (action) {
    case "none":
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
