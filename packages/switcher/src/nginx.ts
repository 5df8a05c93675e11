import { randomBytes } from "node:crypto";
import { BgError, type Color } from "@bluegreen/contracts";
import type { Logger } from "@bluegreen/runtime";
import type { CommandResult } from "./command.ts";
import type { SwitchDefinition } from "./decide.ts";
import { since } from "./outcome.ts";
import type { NginxSettings, SwitchPorts } from "./ports.ts";
import type { ProbeResult } from "./probe.ts";
import { generationOfFile, renderUpstream } from "./upstream-file.ts";

/**
 * The nginx side of a switch, as a flat list of steps that each return early: probe the
 * target, write the upstream file atomically, test, reload, verify through nginx. Any step
 * after the write that fails puts the previous file back (and reloads when nginx had loaded
 * the new one), so nginx is left serving what it served before.
 */

export const Stage = {
  probe: "probe",
  /** The request's deadline passed before anything was written. */
  expired: "expired",
  write: "write",
  test: "test",
  reload: "reload",
  verify: "verify",
} as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

export interface StepTimings {
  probeMs?: number;
  writeMs?: number;
  testMs?: number;
  reloadMs?: number;
  verifyMs?: number;
}

/** Why the nginx steps stopped. */
export interface StepFailure {
  stage: Stage;
  error: BgError;
  /** nginx's own words (test/reload), or the last answer seen (verify). */
  output?: string;
  /** The previous upstream file is back in place (and loaded, when nginx had reloaded). */
  restored: boolean;
}

export type NginxResult =
  | { ok: true; timings: StepTimings }
  | ({ ok: false; timings: StepTimings } & StepFailure);

export interface NginxStepsOptions {
  /** What the file held before (undefined: it did not exist), to restore on failure. */
  previous: string | undefined;
  /** A probe of the target already under way (started while the fence was read). */
  probe?: Promise<ProbeResult>;
  /**
   * False: the file already holds the colour (adopting a hand-edited file); only test, reload
   * and verify it. Nothing is restored on failure, since nothing was written.
   */
  write?: boolean;
  verifyTimeoutMs: number;
  /**
   * When the requester stops waiting (ms since the epoch): checked once more after the probe,
   * right before the write, so a late request never touches the file.
   */
  deadline?: number | undefined;
  logger?: Logger | undefined;
}

/** A new generation for each written file: time in base 36 and a random suffix. */
export function newGeneration(now: Date): string {
  return `${now.getTime().toString(36)}-${randomBytes(3).toString("hex")}`;
}

/** Makes nginx serve `color`: the steps of a switch (and of a drift re-applied or adopted). */
export async function nginxSteps(
  def: SwitchDefinition,
  color: Color,
  ports: SwitchPorts,
  nginx: NginxSettings,
  opts: NginxStepsOptions,
): Promise<NginxResult> {
  const { service } = def;
  const file = def.traffic.file;
  const timings: StepTimings = {};
  const log = opts.logger;
  const stop = (failure: StepFailure): NginxResult => ({ ok: false, timings, ...failure });

  let start = performance.now();
  const probe = await (opts.probe ?? ports.probe(def, color));
  timings.probeMs = since(start);
  if (!probe.ready) {
    log?.warn({ step: "probe", node: probe.node, reason: probe.reason }, "target not ready");
    const { node, reason } = probe;
    return stop({
      stage: Stage.probe,
      error: new BgError("BG_ERR_SWITCH_TARGET_NOT_READY", { service, to: color, node, reason }),
      restored: true,
    });
  }

  if (opts.deadline !== undefined && ports.now().getTime() >= opts.deadline) {
    const deadline = new Date(opts.deadline).toISOString();
    log?.warn({ step: "probe", deadline }, "the request's deadline passed: nothing written");
    return stop({
      stage: Stage.expired,
      error: new BgError("BG_ERR_SWITCH_EXPIRED", { service, to: color, deadline }),
      restored: true,
    });
  }

  const write = opts.write ?? true;
  // What the answering nginx worker must have loaded: the file written now, or (adopting) the
  // file as it is.
  const fresh = write ? newGeneration(ports.now()) : undefined;
  const generation =
    fresh ??
    (opts.previous === undefined
      ? undefined
      : generationOfFile(opts.previous, def.traffic.upstream));
  const restore = async (reload: boolean): Promise<boolean> => {
    if (!write) return false;
    try {
      await ports.restoreFile(file, opts.previous);
    } catch (err) {
      log?.error({ err, file }, "could not restore the previous upstream file");
      return false;
    }
    if (!reload) return true;
    await nginx.pacer?.turn();
    const again = await ports.runCommand(nginx.reloadCommand, nginx.commandTimeoutMs);
    if (!again.ok) log?.error({ output: again.output }, "reload after restore failed");
    return again.ok;
  };
  // nginx said no to a command: the previous file back (reloaded, when nginx may have loaded
  // the new one), the error with nginx's first lines, `output` with all of them.
  const refusedBy = async (stage: "test" | "reload", said: CommandResult): Promise<NginxResult> => {
    const restored = await restore(stage === Stage.reload);
    const message =
      stage === Stage.test ? "nginx rejected the configuration" : "nginx reload failed";
    log?.error({ step: stage, output: said.output, restored }, message);
    const code =
      stage === Stage.test ? "BG_ERR_SWITCH_NGINX_TEST_FAILED" : "BG_ERR_SWITCH_RELOAD_FAILED";
    const error = new BgError(code, { output: firstLines(said.output) });
    return stop({ stage, error, output: said.output, restored });
  };

  start = performance.now();
  // The directory fsync (durability of the rename across a crash) runs while nginx tests.
  let dirSynced: Promise<void> = Promise.resolve();
  try {
    if (fresh !== undefined) {
      dirSynced = (await ports.writeFile(file, renderUpstream(def, color, fresh))).dirSynced;
    }
  } catch (err) {
    timings.writeMs = since(start);
    const reason = err instanceof Error ? err.message : String(err);
    log?.error({ step: "write", file, reason }, "upstream file not written");
    return stop({
      stage: Stage.write,
      error: new BgError("BG_ERR_SWITCH_WRITE_FAILED", { file, reason }, { cause: err }),
      // The rename is atomic: a failed write leaves the previous file untouched.
      restored: true,
    });
  }
  timings.writeMs = since(start);
  const durable = dirSynced.catch((err: unknown) =>
    log?.warn({ err, file }, "directory fsync failed; the new file is in place"),
  );

  start = performance.now();
  const test = await ports.runCommand(nginx.testCommand, nginx.commandTimeoutMs);
  timings.testMs = since(start);
  await durable;
  if (!test.ok) return refusedBy(Stage.test, test);

  // nginx reloads asynchronously: polling through nginx starts with the reload command. When
  // the target answers before the command has even exited, nginx has evidently loaded the new
  // file: the switch goes on, and the command's exit status is still checked (and logged).
  await nginx.pacer?.turn();
  start = performance.now();
  const stopVerify = new AbortController();
  const verifying = ports.verify(def.traffic.verify.url, def, color, {
    timeoutMs: opts.verifyTimeoutMs,
    generation,
    signal: stopVerify.signal,
  });
  const reloading = ports.runCommand(nginx.reloadCommand, nginx.commandTimeoutMs);
  const first = await Promise.race([
    reloading.then((result) => ({ kind: "reload" as const, result })),
    verifying.then((result) => ({ kind: "verify" as const, result })),
  ]);
  if (first.kind === "verify" && first.result.ok) {
    timings.reloadMs = since(start);
    timings.verifyMs = 0;
    void reloading.then((late) => {
      if (!late.ok) {
        log?.warn(
          { step: "reload", output: late.output },
          "reload command failed, yet nginx already served the target",
        );
      }
    });
    return { ok: true, timings };
  }
  const reload = await reloading;
  timings.reloadMs = since(start);
  if (!reload.ok) {
    stopVerify.abort();
    await verifying;
    // A reload that failed (or timed out) may still have reached the master: reload again with
    // the previous file, and claim `restored` only when that reload went through.
    return refusedBy(Stage.reload, reload);
  }

  start = performance.now();
  const verify = await verifying;
  /** Time after the reload command returned until the target answered through nginx. */
  timings.verifyMs = since(start);
  if (!verify.ok) {
    const restored = await restore(true);
    log?.error(
      { step: "verify", last: verify.last, attempts: verify.attempts, restored },
      "traffic did not reach the target",
    );
    return stop({
      stage: Stage.verify,
      error: new BgError("BG_ERR_SWITCH_VERIFY_FAILED", {
        to: color,
        timeoutMs: opts.verifyTimeoutMs,
      }),
      output: `last answer through nginx: ${verify.last} (${verify.attempts} attempts)`,
      restored,
    });
  }
  return { ok: true, timings };
}

/** The message keeps nginx's first lines; the event's `output` carries all of it. */
function firstLines(output: string, max = 512): string {
  const text = output.split("\n").slice(0, 3).join(" | ");
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
