/**
 * One interface, two implementations: `local` runs a step on this host, `ssh` on the node
 * over SSH. A step is an argv array (never a shell string) run in a workdir with an
 * environment; it ends one of five ways, never by throwing.
 */

export interface StepCommand {
  readonly argv: readonly string[];
  readonly workdir: string;
  /** Only the variables the step needs beyond the executor's own environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Killed (with its whole process tree) after this long. */
  readonly timeoutMs: number;
  /** Aborting kills the step the same way (a `deploy.aborted`). */
  readonly signal?: AbortSignal | undefined;
  /** Told which process (= process group) the step is, as soon as it runs. */
  readonly onSpawn?: ((spawned: Spawned) => void) | undefined;
  /** Told why the step runs without its process group known (over SSH: a bad announcement). */
  readonly onUnknownGroup?: ((reason: string) => void) | undefined;
}

/** A step that runs: its pid leads its process group. */
export interface Spawned {
  readonly pid: number;
  /** Over SSH: the node's sshd, and which boot and process it is there (read on the node). */
  readonly remote?: RemoteProcess;
}

export interface RemoteProcess {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The node's `/proc/sys/kernel/random/boot_id`; empty when the node has none. */
  readonly bootId: string;
  /** Field 22 of the step's `/proc/<pid>/stat` on the node; empty when the node has none. */
  readonly startTime: string;
}

export const StepEnd = {
  /** Ran to the end; `exitCode` says how it went. */
  exited: "exited",
  timedOut: "timed_out",
  aborted: "aborted",
  /** The program could not be started at all (not found, workdir missing, …). */
  spawnFailed: "spawn_failed",
  /**
   * The connection to the node (SSH) broke while the step ran: it did start, and how it
   * ended on the node is unknown. `lost` says where and why.
   */
  connectionLost: "connection_lost",
} as const;
export type StepEnd = (typeof StepEnd)[keyof typeof StepEnd];

export interface StepOutcome {
  readonly end: StepEnd;
  /** Null when the step died of a signal or never started. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  /** The last part of the combined stdout/stderr. */
  readonly outputTail: string;
  /** Why a spawn failed. */
  readonly reason?: string;
  /** With `connectionLost`: the node's SSH endpoint and what happened to the connection. */
  readonly lost?: { readonly host: string; readonly port: number; readonly reason: string };
  /**
   * With `timedOut` or `aborted` over SSH: the group kill could not be sent and the step was not
   * seen to exit; why.
   */
  readonly unkilled?: string;
}

/**
 * Why a step whose run is over here may still run where it was started (undefined: it ended,
 * or was killed): the connection to its node was lost (sshd without a pty leaves the command
 * running), or its kill could not be sent.
 */
export function mayStillRun(outcome: StepOutcome): string | undefined {
  if (outcome.end === StepEnd.connectionLost)
    return `the SSH connection was lost while this step ran (${outcome.lost?.reason ?? "closed"})`;
  if (outcome.unkilled !== undefined)
    return `the step was stopped but its kill could not be sent (${outcome.unkilled})`;
  return undefined;
}

export interface Executor {
  readonly kind: "local" | "ssh";
  run(step: StepCommand): Promise<StepOutcome>;
  /** Releases the connection (ssh); idempotent. */
  close(): Promise<void>;
}

/** How long a killed step gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2_000;

/** An outcome without an exit status: the step never started, was stopped, or was cut off. */
export function endedWithoutExit(
  end: StepEnd,
  durationMs = 0,
  outputTail = "",
  extra: Pick<StepOutcome, "reason" | "lost" | "unkilled"> = {},
): StepOutcome {
  return { end, exitCode: null, signal: null, durationMs, outputTail, ...extra };
}

/** A step settles once: the first outcome wins, after `cleanup` (timers, listeners) ran. */
export function settleOnce(
  resolve: (outcome: StepOutcome) => void,
  cleanup: () => void,
): { finish(outcome: StepOutcome): void; readonly settled: boolean } {
  let settled = false;
  return {
    finish(outcome) {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(outcome);
    },
    get settled() {
      return settled;
    },
  };
}
