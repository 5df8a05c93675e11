// The live timeline: reads the audit stream in order (an ordered consumer, nothing stored on
// the server) and prints each event exactly as `bluegreen tail --follow` prints it (the CLI's
// own formatter). Keeps the events so the stories can wait on them and time them.

import { setTimeout as sleep } from "node:timers/promises";
import { formatTimeline } from "@bluegreen/cli";
import { type AnyBgEvent, type BgEvent, parseEvent, STREAM_NAME } from "@bluegreen/contracts";
import type { JetStreamClient } from "nats";

export class Timeline {
  readonly events: AnyBgEvent[] = [];
  #stop: (() => void) | undefined;
  #done: Promise<void> | undefined;

  constructor(private readonly print: (line: string) => void) {}

  async follow(js: JetStreamClient): Promise<this> {
    const consumer = await js.consumers.get(STREAM_NAME, { filterSubjects: "bluegreen.>" });
    const messages = await consumer.consume({ max_messages: 256 });
    this.#stop = () => messages.stop();
    this.#done = (async () => {
      for await (const msg of messages) {
        const parsed = parseEvent(msg.data);
        if (!parsed.ok) {
          this.print(`(seq ${msg.seq}) ${msg.subject}: not a valid bluegreen event`);
          continue;
        }
        this.events.push(parsed.event as AnyBgEvent);
        this.print(formatTimeline(parsed.event as BgEvent));
      }
    })();
    return this;
  }

  find<N extends AnyBgEvent["type"]>(
    type: N,
    predicate: (e: Extract<AnyBgEvent, { type: N }>) => boolean = () => true,
  ): Extract<AnyBgEvent, { type: N }> | undefined {
    return this.events.find(
      (e): e is Extract<AnyBgEvent, { type: N }> =>
        e.type === type && predicate(e as Extract<AnyBgEvent, { type: N }>),
    );
  }

  /**
   * The first such event, polled for until it comes, `timeoutMs` passes or `signal` aborts
   * (then undefined).
   */
  async waitFor<N extends AnyBgEvent["type"]>(
    type: N,
    predicate: (e: Extract<AnyBgEvent, { type: N }>) => boolean,
    opts: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal },
  ): Promise<Extract<AnyBgEvent, { type: N }> | undefined> {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const found = this.find(type, predicate);
      if (found !== undefined) return found;
      if (Date.now() >= deadline || opts.signal?.aborted === true) return undefined;
      await sleep(opts.intervalMs ?? 20);
    }
  }

  async stop(): Promise<void> {
    this.#stop?.();
    await this.#done?.catch(() => undefined);
  }
}
