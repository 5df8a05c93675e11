import { Buckets } from "@bluegreen/contracts";
import { createJson, type Logger, updateJson } from "@bluegreen/runtime";
import type { KV } from "nats";
import { type WatchState, watchStateSchema } from "./watch-state.ts";

/**
 * Watch state in KV (`bluegreen_watches`, key = service), written only with compare-and-set:
 * a write on a stale revision is BG_ERR_KV_CONFLICT, so two writers never overwrite each other.
 */

export interface StoredWatch {
  /** Undefined when the key is absent, deleted, or holds something that is not a watch. */
  readonly state: WatchState | undefined;
  /** The revision to write against; undefined when the key is absent. */
  readonly revision: number | undefined;
}

export class WatchStore {
  constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
  ) {}

  async read(service: string): Promise<StoredWatch> {
    const entry = await this.kv.get(service);
    if (entry === null || entry.operation !== "PUT") {
      return { state: undefined, revision: entry?.revision };
    }
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(entry.value));
    } catch {
      json = undefined;
    }
    const parsed = watchStateSchema.safeParse(json);
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
      return { state: undefined, revision: entry.revision };
    }
    return { state: parsed.data, revision: entry.revision };
  }

  /** Writes `state` if the key is still at `revision` (absent when undefined); the new revision. */
  async write(state: WatchState, revision: number | undefined): Promise<number> {
    return revision === undefined
      ? createJson(this.kv, state.service, state)
      : updateJson(this.kv, state.service, state, revision);
  }

  /** The services that have a stored watch. */
  async services(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys()) keys.push(key);
    return keys.sort();
  }
}
