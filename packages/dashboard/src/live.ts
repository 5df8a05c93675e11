// One page's live feed, as server-sent events. The first message is the page's picture and
// the stream sequence it goes up to (`snapshot`, id = that sequence); then every event it
// shows (`event`, id = its stream sequence) and a fresh picture whenever a record it shows
// changed (`picture`; fleet rows one by one: `row`). A page that reconnects sends the last id
// it saw (Last-Event-ID): it gets the events after it — from memory, or read again from the
// stream — then the live ones, each exactly once, and its picture again (records replace).

import type { ServerResponse } from "node:http";
import type { JetStreamClient } from "nats";
import { readRange, type SeqEvent } from "./history.ts";
import type { Hub, HubChange } from "./hub.ts";
import {
  deploymentEvents,
  picture,
  type Scope,
  scopeService,
  wantsChange,
  wantsEvent,
} from "./scopes.ts";

/** How long a browser waits before it reconnects. */
const RETRY_MS = 500;
/** A comment line this often keeps proxies from closing an idle feed. */
const KEEPALIVE_MS = 15_000;
/** At most one fresh picture per page this often (a burst of record changes is one). */
const PICTURE_EVERY_MS = 100;

export interface FeedOptions {
  hub: Hub;
  js: JetStreamClient;
  scope: Scope;
  /** The last sequence the page saw (a reconnect), or undefined for a first connection. */
  resumeAfter: number | undefined;
  res: ServerResponse;
}

function send(res: ServerResponse, name: string, data: unknown, id?: number): void {
  res.write(
    `${id === undefined ? "" : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`,
  );
}

/** Runs a page's feed until the page goes away. */
export async function runFeed(opts: FeedOptions): Promise<void> {
  const { hub, js, scope, res } = opts;
  // Each message goes out as it is written, not held back to fill a packet.
  res.socket?.setNoDelay(true);
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
  });
  res.write(`retry: ${RETRY_MS}\n\n`);
  // Live changes wait in a queue until the catch-up is out, so their order holds.
  const queue: HubChange[] = [];
  let live = false;
  let sent = 0;
  let pictureTimer: NodeJS.Timeout | undefined;
  const sendPicture = () => {
    pictureTimer = undefined;
    send(res, "picture", picture(hub, scope));
  };
  const deliver = (change: HubChange) => {
    if (change.kind === "event") {
      if (change.seq <= sent || !wantsEvent(scope, change.event)) return;
      sent = change.seq;
      send(res, "event", { seq: change.seq, event: change.event }, change.seq);
    } else if (change.kind === "row") {
      if (scope.page === "fleet") send(res, "row", change.row);
    } else if (wantsChange(scope, change) && pictureTimer === undefined) {
      pictureTimer = setTimeout(sendPicture, PICTURE_EVERY_MS);
    }
  };
  const unsubscribe = hub.subscribe((change) => {
    if (live) deliver(change);
    else queue.push(change);
  });
  const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
  const closed = new Promise<void>((resolve) => res.on("close", resolve));
  try {
    const upTo = hub.lastSeq;
    if (opts.resumeAfter === undefined) {
      const events =
        scope.page === "deployment" ? await deploymentEvents(js, hub, scope, upTo) : [];
      sent = upTo;
      send(res, "snapshot", { seq: upTo, picture: picture(hub, scope), events }, upTo);
    } else {
      sent = opts.resumeAfter;
      const missed = await catchUp(hub, js, scope, opts.resumeAfter, upTo);
      for (const item of missed) deliver({ kind: "event", ...item });
      sent = Math.max(sent, upTo);
      send(res, "picture", picture(hub, scope));
    }
    live = true;
    for (const change of queue.splice(0)) deliver(change);
    await closed;
  } finally {
    unsubscribe();
    clearInterval(keepalive);
    if (pictureTimer !== undefined) clearTimeout(pictureTimer);
  }
}

/** The events a reconnecting page missed, after `after` up to `upTo`, in order. */
async function catchUp(
  hub: Hub,
  js: JetStreamClient,
  scope: Scope,
  after: number,
  upTo: number,
): Promise<SeqEvent[]> {
  if (scope.page === "agents" || after >= upTo) return [];
  const kept = hub.recentAfter(after, upTo);
  if (kept !== undefined) return kept;
  return readRange(js, { service: scopeService(scope), after, upTo });
}
