import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { BgError } from "@bluegreen/contracts";
import { NodeSSH } from "node-ssh";
import type { Client, ClientChannel } from "ssh2";
import { OutputBuffer } from "../output-buffer.ts";
import {
  type Executor,
  endedWithoutExit,
  KILL_GRACE_MS,
  StepEnd,
  type StepOutcome,
  settleOnce,
} from "./executor.ts";
import {
  type HostKeyVerdict,
  hostKeyAlgorithms,
  hostKeysFor,
  parseKnownHosts,
  verifyHostKey,
} from "./known-hosts.ts";
import {
  killGroupCommand,
  PID_ANNOUNCE,
  PidMarkerFilter,
  parseProbe,
  probeGroupArgv,
} from "./pid-marker.ts";
import type { GroupHost } from "./process-group.ts";
import { quoteForShell, remoteCommandLine } from "./shell-quote.ts";

export interface SshTarget {
  readonly host: string;
  /** The SSH port of the node (not the app's port). */
  readonly port: number;
  readonly user: string;
  /** Path of a private key file (OpenSSH or PEM). */
  readonly keyFile?: string | undefined;
  /** The key's passphrase (read from the environment variable the config names). */
  readonly passphrase?: string | undefined;
  /** Path of the ssh-agent socket, when agent auth is used. */
  readonly agentSocket?: string | undefined;
  readonly knownHostsFile: string;
  readonly connectTimeoutMs: number;
  readonly killGraceMs?: number;
}

/** How long output may keep flowing after the remote step exited. */
const DRAIN_MS = 1_000;
/** How long to wait for the server to confirm a channel close. */
const CLOSE_WAIT_MS = 1_000;

/** Host key algorithms ssh2 can verify. */
const SUPPORTED_HOST_KEY_ALGORITHMS = new Set([
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
]);

export function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? `${homedir()}${path.slice(1)}` : path;
}

async function knownHostsText(path: string): Promise<string> {
  try {
    return await readFile(expandHome(path), "utf8");
  } catch {
    return "";
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Maps what ssh2 says about a failed connection to the catalogue. */
function connectError(
  target: SshTarget,
  error: unknown,
  verdict: HostKeyVerdict | undefined,
): BgError {
  const where = { host: target.host, port: target.port };
  if (verdict === "mismatch" || verdict === "revoked")
    return new BgError("BG_ERR_SSH_HOST_KEY_MISMATCH", where, { cause: error });
  const e = error as { level?: string; code?: string };
  if (e.level === "client-authentication")
    return new BgError("BG_ERR_SSH_AUTH", { ...where, user: target.user }, { cause: error });
  if (/passphrase|encrypted|privateKey|Cannot parse/i.test(errorText(error)))
    return new BgError("BG_ERR_SSH_AUTH", { ...where, user: target.user }, { cause: error });
  const reason =
    e.code === "ECONNREFUSED"
      ? "connection refused"
      : /Timed out/i.test(errorText(error)) || e.code === "ETIMEDOUT"
        ? `no SSH handshake within ${target.connectTimeoutMs} ms`
        : errorText(error);
  return new BgError("BG_ERR_SSH_UNREACHABLE", { ...where, reason }, { cause: error });
}

/**
 * Connects to the node. The host key is checked against the known-hosts file before anything
 * else: no entry is BG_ERR_SSH_HOST_KEY_UNKNOWN (no connection is even tried), a different
 * key is BG_ERR_SSH_HOST_KEY_MISMATCH (the handshake is cut before authentication).
 */
async function connectSsh(target: SshTarget): Promise<{ ssh: NodeSSH; connection: Client }> {
  const known = hostKeysFor(
    parseKnownHosts(await knownHostsText(target.knownHostsFile)),
    target.host,
    target.port,
  );
  if (known.keys.length === 0) {
    throw new BgError("BG_ERR_SSH_HOST_KEY_UNKNOWN", { host: target.host, port: target.port });
  }
  const algorithms = hostKeyAlgorithms(known).filter((a) => SUPPORTED_HOST_KEY_ALGORITHMS.has(a));
  let verdict: HostKeyVerdict | undefined;
  let privateKey: string | undefined;
  if (target.keyFile !== undefined) {
    try {
      privateKey = await readFile(expandHome(target.keyFile), "utf8");
    } catch (error) {
      throw new BgError(
        "BG_ERR_SSH_AUTH",
        { host: target.host, port: target.port, user: target.user },
        { cause: error },
      );
    }
  }
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      ...(privateKey === undefined ? {} : { privateKey }),
      ...(target.passphrase === undefined ? {} : { passphrase: target.passphrase }),
      ...(target.agentSocket === undefined ? {} : { agent: target.agentSocket }),
      readyTimeout: target.connectTimeoutMs,
      ...(algorithms.length === 0 ? {} : { algorithms: { serverHostKey: algorithms as never } }),
      hostVerifier: (key: Buffer) => {
        verdict = verifyHostKey(known, key);
        return verdict === "ok";
      },
    });
  } catch (error) {
    ssh.dispose();
    throw connectError(target, error, verdict);
  }
  const connection = ssh.connection;
  if (connection === null) {
    throw new BgError("BG_ERR_SSH_UNREACHABLE", {
      host: target.host,
      port: target.port,
      reason: "the connection closed right after the handshake",
    });
  }
  return { ssh, connection };
}

/** Connects to the node (see connectSsh) and returns an executor that runs each step there. */
export async function sshExecutor(target: SshTarget): Promise<Executor> {
  const { ssh, connection } = await connectSsh(target);
  let lost: string | undefined;
  // Without a listener a late connection error would crash the agent.
  connection.on("error", (error: Error) => {
    lost = error.message;
  });
  connection.on("close", () => {
    lost ??= "connection closed";
  });
  const graceMs = target.killGraceMs ?? KILL_GRACE_MS;

  /**
   * Runs a housekeeping command on the node, ignoring its output and outcome; `unsent` is told
   * when it could not even be sent.
   */
  const runDetached = (command: string, unsent: (why: string) => void) => {
    if (lost !== undefined) return unsent(`ssh connection lost: ${lost}`);
    connection.exec(command, (error, ch) => {
      if (error) return unsent(`cannot open an ssh channel: ${error.message}`);
      ch.resume();
      ch.stderr.resume();
      ch.end();
    });
  };

  const run: Executor["run"] = (step) =>
    new Promise((resolve) => {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const output = new OutputBuffer();
      const failed = (reason: string) =>
        endedWithoutExit(StepEnd.spawnFailed, elapsed(), output.tail(), { reason });
      if (lost !== undefined) return resolve(failed(`ssh connection lost: ${lost}`));
      if (step.signal?.aborted) return resolve(endedWithoutExit(StepEnd.aborted));
      let line: string;
      try {
        line = remoteCommandLine({
          prelude: PID_ANNOUNCE,
          workdir: step.workdir,
          argv: step.argv,
          env: step.env,
        });
      } catch (error) {
        return resolve(failed(errorText(error)));
      }
      let channel: ClientChannel | undefined;
      const marker = new PidMarkerFilter();
      let stopReason: typeof StepEnd.timedOut | typeof StepEnd.aborted | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      /** Why a group kill could not be sent; `exited` once the node says the step exited. */
      let killUnsent: string | undefined;
      let exited = false;
      const unkilled = () =>
        stopReason !== undefined && killUnsent !== undefined && !exited
          ? { unkilled: killUnsent }
          : {};
      const settle = settleOnce(resolve, () => {
        clearTimeout(timer);
        clearTimeout(killTimer);
        step.signal?.removeEventListener("abort", onAbort);
        connection.removeListener("close", onConnectionClose);
      });
      const finish = settle.finish;
      // Closes the channel, and settles even if the server never confirms the close.
      const closeChannel = (ch: ClientChannel, outcome: () => StepOutcome) => {
        ch.close();
        killTimer = setTimeout(() => finish(outcome()), CLOSE_WAIT_MS);
      };
      const stoppedOutcome = () =>
        endedWithoutExit(stopReason ?? StepEnd.timedOut, elapsed(), output.tail(), unkilled());
      // sshd delivers a `signal` request to the session's process group (killpg), but only
      // with privilege separation; the group is also signalled by pid over a second channel.
      const signalStep = (ch: ClientChannel, signal: "TERM" | "KILL") => {
        ch.signal(signal);
        if (marker.pid === undefined) return;
        runDetached(killGroupCommand(marker.pid, signal), (why) => {
          killUnsent ??= why;
        });
      };
      const stop = (reason: typeof StepEnd.timedOut | typeof StepEnd.aborted) => {
        if (stopReason !== undefined) return;
        stopReason = reason;
        // The server has not even opened the channel: give up on it now.
        if (channel === undefined) return finish(stoppedOutcome());
        const ch = channel;
        signalStep(ch, "TERM");
        killTimer = setTimeout(() => {
          signalStep(ch, "KILL");
          // Give the KILL a moment to land, then close the channel whatever happened.
          killTimer = setTimeout(() => closeChannel(ch, stoppedOutcome), 250);
        }, graceMs);
      };
      const timer = setTimeout(() => stop(StepEnd.timedOut), Math.max(0, step.timeoutMs));
      const onAbort = () => stop(StepEnd.aborted);
      step.signal?.addEventListener("abort", onAbort, { once: true });
      // Before the channel opened, the step never started; after, it did and its end is unknown.
      const onConnectionClose = () =>
        finish(
          channel === undefined
            ? failed(`ssh connection lost: ${lost ?? "closed"}`)
            : endedWithoutExit(StepEnd.connectionLost, elapsed(), output.tail(), {
                lost: { host: target.host, port: target.port, reason: lost ?? "closed" },
              }),
        );
      connection.once("close", onConnectionClose);

      connection.exec(line, (error, ch) => {
        if (error) return finish(failed(`cannot open an ssh channel: ${error.message}`));
        if (settle.settled) {
          // Stopped before the server opened the channel.
          ch.close();
          return;
        }
        channel = ch;
        let exitCode: number | null = null;
        let signal: string | null = null;
        const exitedOutcome = (): StepOutcome => ({
          end: stopReason ?? StepEnd.exited,
          exitCode,
          signal,
          durationMs: elapsed(),
          outputTail: output.tail(),
          ...unkilled(),
        });
        ch.on("data", (chunk: Buffer) => output.append(chunk));
        let announced = false;
        ch.stderr.on("data", (chunk: Buffer) => {
          output.append(marker.feed(chunk));
          if (announced) return;
          if (marker.refused !== undefined) {
            announced = true;
            step.onUnknownGroup?.(marker.refused);
          }
          if (marker.pid === undefined) return;
          announced = true;
          const { host, port, user } = target;
          const { bootId, startTime } = marker;
          step.onSpawn?.({ pid: marker.pid, remote: { host, port, user, bootId, startTime } });
        });
        ch.stderr.on("end", () => output.append(marker.flush()));
        ch.on("exit", (code: number | null, sig?: string) => {
          exited = true;
          exitCode = typeof code === "number" ? code : null;
          signal = sig ?? null;
          // The step is over; a background process still holding its output must not keep
          // the channel (and the deploy) open.
          if (stopReason === undefined) {
            clearTimeout(timer);
            killTimer = setTimeout(() => closeChannel(ch, exitedOutcome), DRAIN_MS);
          }
        });
        ch.on("close", () => finish(exitedOutcome()));
        // No ch.end(): a channel ended for writing can no longer carry a `signal` request.
        // The step reads its stdin from /dev/null instead (see remoteCommandLine).
      });
    });

  return {
    kind: "ssh",
    run,
    close: async () => {
      ssh.dispose();
    },
  };
}

/** Runs one command on the node and returns its stdout; rejects after `timeoutMs`. */
function execOutput(connection: Client, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const done = (error: Error | undefined, out = "") => {
      clearTimeout(timer);
      if (error === undefined) resolve(out);
      else reject(error);
    };
    connection.exec(command, (error, ch) => {
      if (error) return done(error);
      let out = "";
      ch.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
      });
      ch.stderr.resume();
      ch.on("close", () => done(undefined, out));
      ch.end();
    });
  });
}

/**
 * The node's process groups over SSH (host key checked as for a deploy), for the agent's
 * start: what a group is now, and a signal to it. Each command answers within the connect
 * timeout or fails.
 */
export async function sshGroupHost(target: SshTarget): Promise<GroupHost> {
  const { ssh, connection } = await connectSsh(target);
  connection.on("error", () => undefined);
  const timeoutMs = target.connectTimeoutMs;
  return {
    look: async (pgid) => {
      const command = probeGroupArgv(pgid).map(quoteForShell).join(" ");
      const out = await execOutput(connection, command, timeoutMs);
      const seen = parseProbe(out);
      if (seen === undefined)
        throw new Error(`unexpected answer from the node: ${out.slice(0, 200)}`);
      return seen;
    },
    signal: async (pgid, signal) => {
      await execOutput(connection, killGroupCommand(pgid, signal), timeoutMs);
    },
    close: async () => {
      ssh.dispose();
    },
  };
}
