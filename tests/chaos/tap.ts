// What the agents publish, seen live on `bluegreen.>`, without paying to parse a flood of
// fuzzed payloads: messages published by the test with a `fuzz-` Nats-Msg-Id are only counted.

import { type AnyBgEvent, type BgEvent, type EventName, parseEvent } from "@bluegreen/contracts";
import { waitFor } from "@bluegreen/testkit";
import type { NatsConnection, Subscription } from "nats";

export class EventTap {
  /** Every event that is not fuzz, parsed against the subject it arrived on. */
  readonly events: AnyBgEvent[] = [];
  /** Non-fuzz messages that did not parse on their subject (must stay empty). */
  readonly unparsed: { subject: string; data: string }[] = [];
  fuzzSeen = 0;
  private readonly sub: Subscription;

  constructor(
    nc: NatsConnection,
    readonly fuzzPrefix = "fuzz-",
  ) {
    const sub = nc.subscribe("bluegreen.>");
    this.sub = sub;
    void (async () => {
      for await (const msg of sub) {
        if (msg.headers?.get("Nats-Msg-Id").startsWith(this.fuzzPrefix)) {
          this.fuzzSeen++;
          continue;
        }
        const parsed = parseEvent(msg.data, { subject: msg.subject });
        if (parsed.ok) this.events.push(parsed.event as AnyBgEvent);
        else this.unparsed.push({ subject: msg.subject, data: msg.string().slice(0, 300) });
      }
    })();
  }

  of<N extends EventName>(name: N, where: (e: BgEvent<N>) => boolean = () => true): BgEvent<N>[] {
    return this.events.filter(
      (e) => e.type === `bluegreen.${name}` && where(e as unknown as BgEvent<N>),
    ) as unknown as BgEvent<N>[];
  }

  wait<N extends EventName>(
    name: N,
    where: (e: BgEvent<N>) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<BgEvent<N>> {
    return waitFor(() => this.of(name, where)[0], {
      what: `a ${name} event`,
      timeoutMs,
      intervalMs: 20,
    });
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}
