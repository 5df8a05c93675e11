// When nginx serves a colour again, as a user sees it: a GET on a new connection every 50 ms,
// until `run` answers in a row come from that colour and version. nginx's old workers may still
// accept a new connection for ~100 ms after a reload (docs/switcher.md), so one answer is not
// enough; the time is that of the first answer of the run.

import { setTimeout as sleep } from "node:timers/promises";
import { requestOnce } from "@bluegreen/testkit";

export interface Target {
  readonly color: string;
  readonly version: string;
}

export interface ServedOptions {
  /** Epoch ms: give up then. */
  readonly deadline: number;
  /** Default 50 ms between the starts of two requests. */
  readonly everyMs?: number;
  /** Answers in a row (default 10). */
  readonly run?: number;
}

/** Epoch ms of the first answer of the run, or undefined when the deadline came first. */
export async function servedFrom(
  url: string,
  target: Target,
  opts: ServedOptions,
): Promise<number | undefined> {
  const everyMs = opts.everyMs ?? 50;
  const run = opts.run ?? 10;
  let first: number | undefined;
  let count = 0;
  while (Date.now() < opts.deadline) {
    const sent = Date.now();
    const answer = await requestOnce(url, 2_000);
    if (
      answer.status === 200 &&
      answer.color === target.color &&
      answer.version === target.version
    ) {
      first ??= answer.at;
      if (++count >= run) return first;
    } else {
      first = undefined;
      count = 0;
    }
    await sleep(Math.max(0, everyMs - (Date.now() - sent)));
  }
  return undefined;
}
