import type { ActiveRecord, Color } from "@bluegreen/contracts";
import type { CommandResult } from "./command.ts";
import type { ActiveState } from "./decide.ts";
import type { ProbeResult, ProbeSpec } from "./probe.ts";
import type { ReloadPacer } from "./reload-pacer.ts";
import type { NodesSpec, VerifyResult } from "./verify.ts";

/**
 * Everything a switch touches in the world, as one interface: the steps are written against
 * it, the agent passes the real adapters (KV, files, execFile, HTTP), unit tests pass fakes.
 */
export interface SwitchPorts {
  readActive(service: string): Promise<ActiveState>;
  /** Compare-and-set on `expectedRevision` (0: the key must not exist); the new revision. */
  writeActive(service: string, record: ActiveRecord, expectedRevision: number): Promise<number>;
  readFile(path: string): Promise<string | undefined>;
  /**
   * Atomic write (temp file, fsync, rename). Resolves once the new content is in place; the
   * directory fsync that makes the rename survive a crash is `dirSynced`.
   */
  writeFile(path: string, content: string): Promise<{ dirSynced: Promise<void> }>;
  /** Puts `previous` back (undefined: removes the file). */
  restoreFile(path: string, previous: string | undefined): Promise<void>;
  runCommand(argv: readonly string[], timeoutMs: number): Promise<CommandResult>;
  probe(def: ProbeSpec, color: Color): Promise<ProbeResult>;
  verify(
    url: string,
    def: NodesSpec,
    color: Color,
    opts: { timeoutMs: number; generation?: string | undefined; signal?: AbortSignal },
  ): Promise<VerifyResult>;
  now(): Date;
  /**
   * The colour nginx answers the verify URL with right now (a few looks that agree; one when
   * it is `expected`), or null when the answer does not say (or there is none, or `signal`
   * aborted the looks). Optional: without it, only the file is checked.
   */
  served?(url: string, def: NodesSpec, opts?: ServedOptions): Promise<Color | null>;
}

export interface ServedOptions {
  /** The recorded colour: a first answer from it ends the looks (no drift to confirm). */
  expected?: Color;
  /** Ends the looks with "tells nothing" (a switch for the service is waiting). */
  signal?: AbortSignal;
}

/** The host-local part of a switch, from the switcher's own config. */
export interface NginxSettings {
  testCommand: readonly string[];
  reloadCommand: readonly string[];
  commandTimeoutMs: number;
  /** Spaces the reloads of one nginx (shared by every service the switcher serves). */
  pacer?: ReloadPacer;
}
