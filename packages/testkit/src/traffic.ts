// The request loop: GET through nginx, one request at a time, each on a new connection (no
// pooled keep-alive connection to an nginx worker that is exiting after a reload). Bounded in
// time; hands each second's answers to `onSecond` (the demo prints a line of them).

import { get } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export interface TrafficSample {
  /** Epoch ms when the answer (or the error) came. */
  readonly at: number;
  /** HTTP status; 0 when no answer came (refused, reset, timeout). */
  readonly status: number;
  /** X-App-Color / X-App-Version of the answer, when the app answered. */
  readonly color: string | undefined;
  readonly version: string | undefined;
}

export interface TrafficOptions {
  /** e.g. http://127.0.0.1:PORT/api/v1/memory */
  readonly url: string;
  /** Pause between requests (default 40 ms: about 20 requests a second). */
  readonly pauseMs?: number;
  /** The loop stops itself after this long (default 150 s). */
  readonly maxDurationMs?: number;
  /** Called once a second with that second's samples. */
  readonly onSecond?: (samples: readonly TrafficSample[]) => void;
  /** At most this many samples are kept (default 20 000). */
  readonly maxSamples?: number;
}

export interface TrafficLoop {
  readonly samples: readonly TrafficSample[];
  /** Stops sending and waits for the request in flight. */
  stop(): Promise<void>;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** One GET on a new connection; never rejects (no answer is status 0). */
export function requestOnce(url: string, timeoutMs = 3_000): Promise<TrafficSample> {
  return new Promise((resolve) => {
    const done = (status: number, color?: string, version?: string) =>
      resolve({ at: Date.now(), status, color, version });
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () =>
        done(
          res.statusCode ?? 0,
          header(res.headers["x-app-color"]),
          header(res.headers["x-app-version"]),
        ),
      );
      res.on("error", () => done(0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => done(0));
  });
}

export interface Served {
  color: string | undefined;
  version: string | undefined;
  status: number;
}

/**
 * What nginx serves on a new connection, once ten answers in a row agree. nginx's old workers
 * may accept new connections for ~100 ms after a reload (docs/switcher.md). Past `timeoutMs`,
 * the last answer is returned as it is.
 */
export async function settledAnswer(url: string, timeoutMs = 5_000): Promise<Served> {
  // Ten agreeing answers spread over at least a second: nginx's old workers keep accepting
  // for a moment after a reload (longer on a loaded machine), so a quick run of answers can
  // still come from the configuration before.
  const deadline = Date.now() + timeoutMs;
  let run = 0;
  let runSince = Date.now();
  let last: Served | undefined;
  const settled = () => run >= 10 && Date.now() - runSince >= 1_000;
  while (!settled() && (last === undefined || Date.now() < deadline)) {
    const sample = await requestOnce(url);
    const next = { color: sample.color, version: sample.version, status: sample.status };
    const same =
      last !== undefined &&
      last.color === next.color &&
      last.version === next.version &&
      last.status === next.status;
    if (!same) runSince = Date.now();
    run = same ? run + 1 : 1;
    last = next;
    if (run >= 10) await sleep(50);
  }
  return last as Served;
}

export function startTraffic(opts: TrafficOptions): TrafficLoop {
  const samples: TrafficSample[] = [];
  const pauseMs = opts.pauseMs ?? 40;
  const maxSamples = opts.maxSamples ?? 20_000;
  const deadline = Date.now() + (opts.maxDurationMs ?? 150_000);
  let running = true;
  let secondStart = Date.now();
  const ticker = setInterval(() => {
    const now = Date.now();
    opts.onSecond?.(samples.filter((s) => s.at >= secondStart && s.at < now));
    secondStart = now;
  }, 1_000);
  const loop = (async () => {
    while (running && Date.now() < deadline) {
      const sample = await requestOnce(opts.url);
      if (samples.length < maxSamples) samples.push(sample);
      await sleep(pauseMs);
    }
    clearInterval(ticker);
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      clearInterval(ticker);
      await loop;
    },
  };
}
