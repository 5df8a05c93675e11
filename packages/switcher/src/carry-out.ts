import { BgError, type Color, type EventDataInput } from "@bluegreen/contracts";
import type { Logger } from "@bluegreen/runtime";
import { type ApplyDefinition, applyColor, type StepTimings } from "./apply.ts";
import { type ActiveState, decide, nextRecord, type SwitchRequest } from "./decide.ts";
import type { NginxSettings, SwitchPorts } from "./ports.ts";
import { colorOfFile } from "./upstream-file.ts";

/**
 * One `switch.requested`, start to end: read the fence and the file, decide, carry out the
 * nginx steps, record the new active colour with compare-and-set. Always answers with the
 * data of a `switch.done` or a `switch.failed`; only a failure to read the record (NATS
 * trouble) throws, so the request is redelivered and tried again.
 */

export type SwitchOutcome =
  | { kind: "done"; data: EventDataInput<"switch.done"> }
  | { kind: "failed"; data: EventDataInput<"switch.failed">; result: "refused" | "failed" };

export type SwitchResult = "changed" | "unchanged" | "refused" | "failed";

export function resultOf(outcome: SwitchOutcome): SwitchResult {
  if (outcome.kind === "failed") return outcome.result;
  return outcome.data.changed ? "changed" : "unchanged";
}

export interface CarryOutOptions {
  nginx: NginxSettings;
  logger?: Logger | undefined;
}

const since = (start: number) => Math.round((performance.now() - start) * 100) / 100;

export async function carryOut(
  req: SwitchRequest,
  def: ApplyDefinition,
  ports: SwitchPorts,
  opts: CarryOutOptions,
): Promise<SwitchOutcome> {
  const started = performance.now();
  const log = opts.logger;
  const file = def.traffic.file;
  const base = { to: req.to, reason: req.reason };
  const version = req.version === undefined ? {} : { version: req.version };

  // The target's readiness probe starts with the reads: it is needed before the write, and
  // costs one GET per node when the decision turns out to need no write.
  const probing = ports.probe(def, req.to);
  probing.catch(() => undefined); // awaited (and its failure reported) only when needed
  const reading = ports.readFile(file);
  reading.catch(() => undefined);
  const state: ActiveState = await ports.readActive(req.service);
  /** What nginx serves as far as we know: the file's colour, else the record's. */
  let serving: Color | null = state.record?.color ?? null;
  let previous: string | undefined;
  try {
    previous = await reading;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    log?.error({ step: "read", file, reason }, "upstream file not readable");
    return failed("failed", "write", new BgError("BG_ERR_SWITCH_WRITE_FAILED", { file, reason }));
  }
  const fileColor: Color | null = previous === undefined ? null : colorOfFile(previous, def).color;
  if (fileColor !== null) serving = fileColor;

  function failed(
    result: "refused" | "failed",
    stage: EventDataInput<"switch.failed">["stage"],
    error: BgError,
    extra: { output?: string; restored?: boolean; activeColor?: Color | null } = {},
  ): SwitchOutcome {
    return {
      kind: "failed",
      result,
      data: {
        ...base,
        stage,
        error: error.toJSON(),
        ...(extra.output === undefined ? {} : { output: extra.output }),
        restored: extra.restored ?? true,
        activeColor: extra.activeColor === undefined ? serving : extra.activeColor,
      },
    };
  }
  const done = (
    from: Color | null,
    changed: boolean,
    revision: number,
    timings: StepTimings & { recordMs?: number },
  ): SwitchOutcome => ({
    kind: "done",
    data: {
      ...base,
      ...version,
      from,
      changed,
      revision,
      timings: { ...timings, totalMs: since(started) },
    },
  });

  const decision = decide(req, state, fileColor);
  log?.debug({ decision, revision: state.revision, fileColor }, "switch decided");
  switch (decision.kind) {
    case "stale":
      log?.warn(
        { expected: req.expectedRevision, actual: decision.actual },
        "stale fence: refused",
      );
      return failed(
        "refused",
        "fence",
        new BgError("BG_ERR_SWITCH_STALE_REVISION", {
          service: req.service,
          to: req.to,
          expected: req.expectedRevision,
          actual: decision.actual,
        }),
      );
    case "already":
      log?.info({ to: req.to, revision: decision.revision }, "target already serves: no change");
      return done(decision.from, false, decision.revision, {});
    case "record-only": {
      const recordStart = performance.now();
      const record = nextRecord(req, state, fileColor, ports.now());
      try {
        const revision = await ports.writeActive(req.service, record, req.expectedRevision);
        log?.info({ to: req.to, revision }, "file already serves the target: recorded it");
        return done(decision.from, false, revision, { recordMs: since(recordStart) });
      } catch (err) {
        return recordFailed(err, req.to);
      }
    }
    case "switch":
      break;
  }

  function recordFailed(err: unknown, active: Color): SwitchOutcome {
    const reason =
      err instanceof BgError && err.code === "BG_ERR_KV_CONFLICT"
        ? `the record changed meanwhile (${err.message})`
        : err instanceof Error
          ? err.message
          : String(err);
    log?.error({ step: "record", reason }, "active colour not recorded");
    return failed(
      "failed",
      "record",
      new BgError("BG_ERR_SWITCH_RECORD_FAILED", { to: req.to, reason }, { cause: err }),
      { restored: false, activeColor: active },
    );
  }

  // Verification ends by the switch timeout, and by the requester's deadline when it is sooner:
  // a switch verified after the deployment stopped waiting is restored instead.
  const left = req.deadline === undefined ? Infinity : req.deadline - ports.now().getTime();
  const budget = Math.min(def.traffic.switch_timeout - since(started), left);
  const applied = await applyColor(def, req.to, ports, opts.nginx, {
    previous,
    probe: probing,
    verifyTimeoutMs: Math.max(1, Math.min(def.traffic.verify.timeout, budget)),
    deadline: req.deadline,
    logger: log,
  });
  if (!applied.ok) {
    const refused = applied.stage === "probe" || applied.stage === "expired";
    return failed(refused ? "refused" : "failed", applied.stage, applied.error, {
      ...(applied.output === undefined ? {} : { output: applied.output }),
      restored: applied.restored,
      activeColor: applied.restored ? serving : null,
    });
  }
  if (!decision.record) {
    return done(decision.from, true, state.revision, applied.timings);
  }
  const recordStart = performance.now();
  try {
    const record = nextRecord(req, state, fileColor, ports.now());
    const revision = await ports.writeActive(req.service, record, req.expectedRevision);
    const timings = { ...applied.timings, recordMs: since(recordStart) };
    log?.info({ from: decision.from, to: req.to, revision, timings }, "switched");
    return done(decision.from, true, revision, timings);
  } catch (err) {
    return recordFailed(err, req.to);
  }
}
