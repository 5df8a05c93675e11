import { Buckets } from "@bluegreen/contracts";
import {
  createJson,
  type Logger,
  type RecordStore,
  type StoredRecord,
  updateJson,
} from "@bluegreen/runtime";
import type { KV } from "nats";
import { z } from "zod";
import { type WatchState, watchStateSchema } from "./decide/state.ts";
import type { Command } from "./decide.ts";

/**
 * Watches in KV (`bluegreen_watches`, key = service): the only code that reads, writes and
 * parses them. A record is the watch itself plus, while its events are not known to be out,
 * `pending`: the commands of its last transition (a record without it, as every monitor before
 * this field wrote, has none). Written only with compare-and-set: a write on a stale revision
 * is BG_ERR_KV_CONFLICT, so two writers never overwrite each other.
 */

const eventSchema = z.object({
  name: z.enum([
    "monitor.started",
    "monitor.stopped",
    "monitor.passed",
    "slo.warning",
    "slo.breached",
    "slo.inconclusive",
  ]),
  id: z.string().min(1),
  service: z.string().min(1),
  deploymentId: z.string().min(1),
  // Checked again by the bus when it is published.
  data: z.record(z.string(), z.unknown()),
});

const commandSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("publish"), event: eventSchema }),
  z.object({ kind: z.literal("confirm") }),
  z.object({ kind: z.literal("baseline"), deploymentId: z.string() }),
  z.object({ kind: z.literal("check"), deploymentId: z.string(), check: z.int(), at: z.number() }),
  z.object({ kind: z.literal("cancel"), deploymentId: z.string() }),
]);

const recordSchema = watchStateSchema.extend({
  pending: z.array(commandSchema).optional(),
});

export class WatchStore implements RecordStore<WatchState, Command> {
  /** Keys holding something that is not a watch: the next watch replaces it at this revision. */
  private readonly unreadable = new Map<string, number>();

  constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
  ) {}

  /** The stored watch of a service; undefined when absent, deleted, or not a watch. */
  async load(service: string): Promise<StoredRecord<WatchState, Command> | undefined> {
    this.unreadable.delete(service);
    const entry = await this.kv.get(service);
    if (entry === null || entry.operation !== "PUT") return undefined;
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(entry.value));
    } catch {
      json = undefined;
    }
    const parsed = recordSchema.safeParse(json);
    if (!parsed.success) {
      this.logger.error(
        {
          service,
          bucket: Buckets.watches,
          revision: entry.revision,
          problems: parsed.error.issues.slice(0, 5),
        },
        "stored watch is unreadable; it will be replaced by the next watch",
      );
      this.unreadable.set(service, entry.revision);
      return undefined;
    }
    const { pending, ...state } = parsed.data;
    return { state, pending: (pending ?? []) as Command[], revision: entry.revision };
  }

  /** Writes the watch if the key is still at `revision` (absent when undefined). */
  async save(
    service: string,
    state: WatchState,
    pending: readonly Command[],
    revision: number | undefined,
  ): Promise<number> {
    const record = pending.length === 0 ? state : { ...state, pending };
    const expected = revision ?? this.unreadable.get(service);
    const written =
      expected === undefined
        ? await createJson(this.kv, service, record)
        : await updateJson(this.kv, service, record, expected);
    this.unreadable.delete(service);
    return written;
  }

  /**
   * One stored value as a watch (undefined when it is not one): for readers that follow the
   * bucket's changes, each revision as it was (the dashboard's SLO series).
   */
  static parse(value: Uint8Array): WatchState | undefined {
    try {
      const parsed = recordSchema.safeParse(JSON.parse(new TextDecoder().decode(value)));
      if (!parsed.success) return undefined;
      const { pending: _pending, ...state } = parsed.data;
      return state;
    } catch {
      return undefined;
    }
  }

  /** The services that have a stored watch. */
  async services(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys()) keys.push(key);
    return keys.sort();
  }
}
