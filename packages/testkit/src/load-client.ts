// A bounded HTTP load client for the zero-failed-requests checks: a fixed number of workers
// send GETs one after another until told to stop or the request budget is spent. Either a new
// connection per request (`agent: false`) or kept-alive connections (one shared agent).

import { Agent, type ClientRequest, get } from "node:http";
import { Worker } from "node:worker_threads";

export interface LoadOptions {
  url: string;
  concurrency: number;
  /** The budget: never more than this many requests in all. */
  maxRequests: number;
  keepAlive: boolean;
  /**
   * Retry once, on a new connection, a request whose connection was reset before the answer
   * (safe for idempotent requests only; what browsers do for kept-alive connections).
   */
  retryOnReset?: boolean;
  /** Polled between requests; true ends the run. */
  stop: () => boolean;
}

export interface LoadResult {
  requests: number;
  ok: number;
  /** Answers outside 2xx, by status. */
  non2xx: Record<string, number>;
  /** Requests that got no answer at all, by error code ("(reused)": on a kept-alive connection). */
  failed: Record<string, number>;
  /** Requests whose connection was reset and that succeeded when retried. */
  retried: number;
  /** 2xx answers by the X-App-Color header. */
  byColor: Record<string, number>;
  durationMs: number;
}

type One =
  | { ok: true; status: number; color: string | undefined }
  | { ok: false; code: string; reused: boolean };

function once(url: string, agent: Agent | false): Promise<One> {
  return new Promise((resolve) => {
    let req: ClientRequest | undefined;
    const fail = (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, code: err.code ?? err.message, reused: req?.reusedSocket ?? false });
    req = get(url, { agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => {
        const color = res.headers["x-app-color"];
        resolve({
          ok: true,
          status: res.statusCode ?? 0,
          color: typeof color === "string" ? color : undefined,
        });
      });
      res.on("error", fail);
    });
    req.on("timeout", () =>
      req?.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })),
    );
    req.on("error", fail);
  });
}

const bump = (record: Record<string, number>, key: string) => {
  record[key] = (record[key] ?? 0) + 1;
};

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const agent = opts.keepAlive
    ? new Agent({ keepAlive: true, maxSockets: opts.concurrency })
    : false;
  const result: LoadResult = {
    requests: 0,
    ok: 0,
    non2xx: {},
    failed: {},
    retried: 0,
    byColor: {},
    durationMs: 0,
  };
  const started = performance.now();
  const worker = async () => {
    while (!opts.stop() && result.requests < opts.maxRequests) {
      result.requests++;
      let answer = await once(opts.url, agent);
      if (!answer.ok && answer.code === "ECONNRESET" && opts.retryOnReset) {
        // On a new connection: the pool may hold more connections the old worker closed.
        answer = await once(opts.url, false);
        if (answer.ok) result.retried++;
      }
      if (!answer.ok) bump(result.failed, answer.reused ? `${answer.code} (reused)` : answer.code);
      else if (answer.status < 200 || answer.status > 299)
        bump(result.non2xx, String(answer.status));
      else {
        result.ok++;
        bump(result.byColor, answer.color ?? "unknown");
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  if (agent) agent.destroy();
  result.durationMs = performance.now() - started;
  return result;
}

export const total = (record: Record<string, number>) =>
  Object.values(record).reduce((a, b) => a + b, 0);

export interface RunningLoad {
  /** Ends the run; resolves with what the client saw. */
  finish(): Promise<LoadResult>;
}

type WorkerMessage = { type: "started" } | { type: "result"; result: LoadResult };

/**
 * runLoad in a worker thread (its own event loop, so the client does not slow the agent
 * down when both live in one process). Resolves once the first requests are on their way.
 */
export async function startLoad(options: Omit<LoadOptions, "stop">): Promise<RunningLoad> {
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(new URL("./load-worker.mjs", import.meta.url), {
    workerData: { options, flag },
  });
  let started!: () => void;
  const running = new Promise<void>((resolve) => {
    started = resolve;
  });
  const result = new Promise<LoadResult>((resolve, reject) => {
    worker.on("message", (message: WorkerMessage) => {
      if (message.type === "started") started();
      else resolve(message.result);
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`load worker exited with code ${code}`)));
  });
  await Promise.race([running, result]);
  return {
    async finish() {
      Atomics.store(new Int32Array(flag), 0, 1);
      try {
        return await result;
      } finally {
        await worker.terminate();
      }
    },
  };
}
