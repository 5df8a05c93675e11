import { createHash } from "node:crypto";
import {
  BgError,
  Buckets,
  compileServiceDefinition,
  type ServiceDefinition,
} from "@bluegreen/contracts";
import { Events, type KV, type KvEntry, type NatsConnection } from "nats";
import { backoffDelay } from "./consumer-config.ts";
import type { Logger } from "./logger.ts";

/**
 * Service definitions live in the services bucket as the raw YAML text the operator applied
 * (key = service name), so a definition read back reports errors with the same line numbers as
 * the file, and `bluegreen get` can show it as written. Every reader compiles on read.
 */
export interface DefinitionEntry {
  service: string;
  definition: Readonly<ServiceDefinition>;
  revision: number;
  /** sha256 of the stored YAML text. */
  sha256: string;
}

export type DefinitionListener = (service: string, entry: DefinitionEntry | undefined) => void;

export function sha256Hex(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}

function sourceName(key: string, revision?: number): string {
  return `${Buckets.services}/${key}${revision === undefined ? "" : `@${revision}`}`;
}

/** Compiles one stored value; the key must name the service the YAML defines. */
export function compileStored(key: string, text: string, revision: number): DefinitionEntry {
  const definition = compileServiceDefinition(text, { source: sourceName(key, revision) });
  if (definition.service !== key) {
    throw new BgError("BG_ERR_CONFIG_INVALID", {
      problems: `${sourceName(key, revision)}: service: '${definition.service}' is stored under key '${key}'`,
    });
  }
  return { service: key, definition, revision, sha256: sha256Hex(text) };
}

export interface PutDefinitionResult extends DefinitionEntry {}

/**
 * Validates a definition (the whole config pipeline) and stores its YAML text under its
 * service name. With `expectedRevision` the write is a compare-and-set (0 = must not exist).
 */
export async function putDefinition(
  kv: KV,
  yamlText: string,
  opts: { source?: string; expectedRevision?: number } = {},
): Promise<PutDefinitionResult> {
  const definition = compileServiceDefinition(yamlText, { source: opts.source ?? "(definition)" });
  const bytes = new TextEncoder().encode(yamlText);
  let revision: number;
  if (opts.expectedRevision === undefined) revision = await kv.put(definition.service, bytes);
  else if (opts.expectedRevision === 0) revision = await kv.create(definition.service, bytes);
  else revision = await kv.update(definition.service, bytes, opts.expectedRevision);
  return { service: definition.service, definition, revision, sha256: sha256Hex(yamlText) };
}

/**
 * Every service definition in KV, kept current by a watch. A new revision that does not
 * compile is logged with its coded error and ignored: the last good definition stays in use.
 */
export class ServiceDefinitions {
  private readonly entries = new Map<string, DefinitionEntry>();
  private readonly listeners = new Set<DefinitionListener>();
  private stopped = false;
  private lastRevision = 0;
  private watcher: { stop(): void } | undefined;
  private loop: Promise<void> | undefined;

  private constructor(
    private readonly kv: KV,
    private readonly logger?: Logger,
  ) {}

  /**
   * Loads every definition, then follows changes until `stop()`. With `nc`, the watch is
   * re-established as soon as the connection comes back after a server restart (otherwise the
   * watch notices by missed heartbeats, some seconds later).
   */
  static async open(
    kv: KV,
    opts: { logger?: Logger; nc?: NatsConnection } = {},
  ): Promise<ServiceDefinitions> {
    const defs = new ServiceDefinitions(kv, opts.logger);
    await defs.start();
    if (opts.nc !== undefined) defs.rewatchOnReconnect(opts.nc);
    return defs;
  }

  private rewatchOnReconnect(nc: NatsConnection): void {
    const follow = async () => {
      for await (const s of nc.status()) {
        if (this.stopped) break;
        if (s.type === Events.Reconnect) {
          this.logger?.debug(
            { fromRevision: this.lastRevision + 1 },
            "reconnected; watching again",
          );
          this.watcher?.stop();
        }
      }
    };
    follow().catch(() => undefined);
  }

  get(service: string): Readonly<ServiceDefinition> | undefined {
    return this.entries.get(service)?.definition;
  }

  /** Like get, but a missing service is BG_ERR_CONFIG_UNKNOWN_SERVICE. */
  require(service: string): Readonly<ServiceDefinition> {
    const def = this.get(service);
    if (def === undefined) throw new BgError("BG_ERR_CONFIG_UNKNOWN_SERVICE", { service });
    return def;
  }

  entry(service: string): DefinitionEntry | undefined {
    return this.entries.get(service);
  }

  list(): DefinitionEntry[] {
    return [...this.entries.values()].sort((a, b) => a.service.localeCompare(b.service));
  }

  /** Called with the new entry on every accepted change (undefined when a service is removed). */
  onChange(listener: DefinitionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.stop();
    await this.loop;
  }

  private async start(): Promise<void> {
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => {
      initialized = resolve;
    });
    this.loop = this.follow(initialized);
    await ready;
  }

  /** Watches the bucket; when the watch ends without stop() (server trouble), watches again. */
  private async follow(initialized: () => void): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const iter = await this.kv.watch({
          ...(this.lastRevision === 0 ? {} : { resumeFromRevision: this.lastRevision + 1 }),
          initializedFn: initialized,
        });
        this.watcher = iter;
        failures = 0;
        for await (const entry of iter) this.apply(entry);
      } catch (err) {
        if (this.stopped) break;
        failures++;
        this.logger?.warn({ err, failures }, "service definitions watch failed; retrying");
      }
      if (!this.stopped) {
        const delay = backoffDelay(failures + 1, { baseMs: 500, maxMs: 10_000 });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private apply(entry: KvEntry): void {
    this.lastRevision = Math.max(this.lastRevision, entry.revision);
    const key = entry.key;
    if (entry.operation !== "PUT") {
      if (this.entries.delete(key)) {
        this.logger?.info({ service: key, revision: entry.revision }, "service definition removed");
        this.emit(key, undefined);
      }
      return;
    }
    let next: DefinitionEntry;
    try {
      next = compileStored(key, new TextDecoder().decode(entry.value), entry.revision);
    } catch (err) {
      const kept = this.entries.get(key);
      this.logger?.error(
        {
          service: key,
          revision: entry.revision,
          code: err instanceof BgError ? err.code : undefined,
          err,
          keptRevision: kept?.revision,
        },
        kept === undefined
          ? "service definition does not compile; service unavailable"
          : "service definition does not compile; keeping the last good one",
      );
      return;
    }
    const previous = this.entries.get(key);
    if (previous !== undefined && previous.sha256 === next.sha256) {
      previous.revision = next.revision;
      return;
    }
    this.entries.set(key, next);
    this.logger?.info(
      { service: key, revision: next.revision, sha256: next.sha256 },
      "service definition loaded",
    );
    this.emit(key, next);
  }

  private emit(service: string, entry: DefinitionEntry | undefined): void {
    for (const listener of this.listeners) {
      try {
        listener(service, entry);
      } catch (err) {
        this.logger?.error({ err, service }, "service definition listener failed");
      }
    }
  }
}
