import type { BgEvent } from "@bluegreen/contracts";
import { readStream } from "@bluegreen/runtime";
import type { JetStreamClient, NatsConnection } from "nats";
import { ExitCode, exitCodeOf } from "./exit-codes.ts";

export interface WatchOptions {
  service: string;
  deploymentId: string | undefined;
  /** The id of the request the CLI published: an `agent.rejected` naming it ends the wait. */
  requestId: string;
  /** Read from here (a little before the request was published). */
  since: Date;
  timeoutMs: number;
  onEvent: (event: BgEvent) => void;
  /** The connection `js` belongs to: losing it for good fails the wait (exit 1, not 6). */
  connection?: NatsConnection;
  /** Counts other events as ours too (a manual switch has no deployment id). */
  match?: (event: BgEvent) => boolean;
  /** Only events stored after this stream sequence count (what answers a request). */
  afterSeq?: number;
  /** Ends the wait earlier than a closing event (e.g. `promote` waits for the switch only). */
  until?: (event: BgEvent) => ExitCode | undefined;
}

export interface WatchResult {
  code: ExitCode;
  timedOut: boolean;
  last: BgEvent | undefined;
}

/**
 * Follows the stream until the deployment ends (or `until` says so), the request is refused,
 * or the timeout passes. Events of the deployment are handed to `onEvent` as they arrive.
 */
export async function watchDeployment(
  js: JetStreamClient,
  opts: WatchOptions,
): Promise<WatchResult> {
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, opts.timeoutMs);
  let last: BgEvent | undefined;
  try {
    for await (const item of readStream(js, {
      service: opts.service,
      since: opts.since,
      follow: true,
      signal: abort.signal,
      ...(opts.connection === undefined ? {} : { connection: opts.connection }),
    })) {
      const event = item.event;
      if (event === undefined) continue;
      if (opts.afterSeq !== undefined && item.seq <= opts.afterSeq) continue;
      const answer =
        event.type === "bluegreen.agent.rejected" &&
        (event as BgEvent<"agent.rejected">).data.originalId === opts.requestId;
      // "Already running" refuses only the repeat: the deployment goes on, so does the wait.
      const refused =
        answer && (event as BgEvent<"agent.rejected">).data.code !== "BG_ERR_DEPLOY_IN_PROGRESS";
      const ours =
        answer ||
        (opts.deploymentId !== undefined && event.deploymentid === opts.deploymentId) ||
        event.id === opts.requestId ||
        opts.match?.(event) === true;
      if (!ours) continue;
      last = event;
      opts.onEvent(event);
      if (refused) return { code: ExitCode.rejected, timedOut: false, last };
      const early = opts.until?.(event);
      if (early !== undefined) return { code: early, timedOut: false, last };
      const code = exitCodeOf(event.type);
      if (code !== undefined) return { code, timedOut: false, last };
    }
    return { code: ExitCode.timedOut, timedOut, last };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}
