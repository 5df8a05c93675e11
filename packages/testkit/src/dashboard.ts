// The dashboard as users start it: `bluegreen dashboard …` as a process, on a free loopback
// port (the same port again after a restart, so an open page reconnects to it).

import { sourceArgs } from "./agents.ts";
import { REPO_ROOT } from "./paths.ts";
import { freePort } from "./ports.ts";
import { type ManagedProcess, spawnProcess } from "./process.ts";

export interface DashboardProcess extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  process(): ManagedProcess;
  /** Stops it and starts it again on the same port, with the same arguments. */
  restart(opts?: { downMs?: number; whileDown?: () => Promise<void> }): Promise<void>;
  stop(): Promise<void>;
}

/** `bluegreen dashboard --listen 127.0.0.1:<port> <args> --server <nats>`; resolves once it listens. */
export async function startDashboardProcess(
  natsUrl: string,
  args: readonly string[] = [],
): Promise<DashboardProcess> {
  const port = await freePort();
  const spawn = async () => {
    const proc = await spawnProcess({
      name: "dashboard",
      command: process.execPath,
      args: [
        ...sourceArgs("cli"),
        "dashboard",
        "--listen",
        `127.0.0.1:${port}`,
        ...args,
        "--server",
        natsUrl,
      ],
      cwd: REPO_ROOT,
    });
    try {
      await proc.waitForLine(/dashboard listening on/, {
        what: "the dashboard to listen",
        timeoutMs: 30_000,
      });
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return proc;
  };
  let proc = await spawn();
  const stop = async () => {
    await proc.stop({ signal: "SIGTERM", timeoutMs: 5_000 });
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    process: () => proc,
    restart: async (opts = {}) => {
      await stop();
      await opts.whileDown?.();
      if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
      proc = await spawn();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
