// bluegreen's events in a suite, a bench or the demo: publishing one as an agent would (with
// the data of the usual ones), a live log of everything on `bluegreen.>`, the next event that
// matches, a service's events in the stream grouped by deployment, and a deployment's events
// as a short readable timeline.

import {
  type AnyBgEvent,
  type BgEvent,
  type Color,
  type EventDataInput,
  type EventName,
  encodeEvent,
  eventSubject,
  filterSubject,
  parseEvent,
  STREAM_NAME,
} from "@bluegreen/contracts";
import type { JetStreamClient, NatsConnection, PubAck, Subscription } from "nats";
import { waitFor } from "./wait.ts";

/** Publishes `event` on its subject through JetStream, its id as the message id (as agents do). */
export function publishEvent(js: JetStreamClient, event: BgEvent): Promise<PubAck> {
  const name = event.type.slice("bluegreen.".length) as EventName;
  return js.publish(eventSubject(event.subject, name), encodeEvent(event), { msgID: event.id });
}

/** The data of a `deploy.started` of `version` to one idle green node, blue serving. */
export function startedData(
  version: string,
  node: { host: string; port: number },
): EventDataInput<"deploy.started"> {
  return {
    version,
    color: "green",
    nodes: [{ host: node.host, port: node.port }],
    activeColor: "blue",
  };
}

/** The data of the `switch.done` of a promotion to `to` (default green), revision 1. */
export function promotedData(
  opts: { to?: Color; version?: string } = {},
): EventDataInput<"switch.done"> {
  const to = opts.to ?? "green";
  return {
    from: to === "green" ? "blue" : "green",
    to,
    changed: true,
    reason: "promote",
    revision: 1,
    ...(opts.version === undefined ? {} : { version: opts.version }),
    timings: { totalMs: 1 },
  };
}

/** Every event seen on `subject` (default `bluegreen.>`) since the log was opened, in arrival order. */
export class EventLog {
  readonly events: AnyBgEvent[] = [];
  /** Payloads that did not parse (the malformed messages the tests publish). */
  readonly unparsed: string[] = [];
  private readonly sub: Subscription;

  constructor(nc: NatsConnection, subject = "bluegreen.>") {
    const sub = nc.subscribe(subject);
    this.sub = sub;
    (async () => {
      for await (const msg of sub) {
        const parsed = parseEvent(msg.data);
        if (parsed.ok) this.events.push(parsed.event as AnyBgEvent);
        else this.unparsed.push(new TextDecoder().decode(msg.data));
      }
    })().catch(() => undefined);
  }

  of<N extends EventName>(name: N, deploymentId?: string): BgEvent<N>[] {
    return this.events.filter(
      (e) =>
        e.type === `bluegreen.${name}` &&
        (deploymentId === undefined || e.deploymentid === deploymentId),
    ) as unknown as BgEvent<N>[];
  }

  /** The first event of that type (and deployment) matching `where`, polled until `timeoutMs`. */
  wait<N extends EventName>(
    name: N,
    opts: { deploymentId?: string; where?: (e: BgEvent<N>) => boolean; timeoutMs?: number },
  ): Promise<BgEvent<N>> {
    return waitFor(() => this.of(name, opts.deploymentId).find((e) => opts.where?.(e) ?? true), {
      what: `${name}${opts.deploymentId === undefined ? "" : ` of ${opts.deploymentId}`}`,
      timeoutMs: opts.timeoutMs ?? 15_000,
      intervalMs: 20,
    });
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}

/**
 * Resolves with the first event of `service` published from now on for which `match` holds
 * (a core subscription: it sees events as they are published).
 */
export function nextEvent(
  nc: NatsConnection,
  service: string,
  match: (e: BgEvent) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<BgEvent> {
  return new Promise((resolve, reject) => {
    const sub = nc.subscribe(`bluegreen.${service}.>`, {
      callback: (_err, msg) => {
        const parsed = parseEvent(msg.data);
        if (parsed.ok && match(parsed.event)) {
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(parsed.event);
        }
      },
    });
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
  });
}

/** Every event of `service` in the stream, grouped by deployment id, in stream order. */
export async function eventsByDeployment(
  js: JetStreamClient,
  service: string,
  opts: { expiresMs?: number } = {},
): Promise<Map<string, BgEvent[]>> {
  const consumer = await js.consumers.get(STREAM_NAME, {
    filterSubjects: filterSubject({ service }),
  });
  const out = new Map<string, BgEvent[]>();
  const messages = await consumer.fetch({ max_messages: 10_000, expires: opts.expiresMs ?? 2_000 });
  for await (const msg of messages) {
    const parsed = parseEvent(msg.data);
    const id = parsed.ok ? parsed.event.deploymentid : undefined;
    if (parsed.ok && id !== undefined) out.set(id, [...(out.get(id) ?? []), parsed.event]);
    if (msg.info.pending === 0) break;
  }
  return out;
}

/** `deploy.progress` as `progress 1:started`; every other event by its short name. */
export function timeline(events: readonly BgEvent[]): string[] {
  return events.map((e) => {
    if (e.type === "bluegreen.deploy.progress") {
      const data = (e as BgEvent<"deploy.progress">).data;
      return `progress ${data.step}:${data.status}`;
    }
    return e.type.replace(/^bluegreen\./, "");
  });
}
