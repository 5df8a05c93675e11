import {
  type ActiveRecord,
  activeRecordSchema,
  type ServiceDefinition,
} from "@bluegreen/contracts";
import {
  compileStored,
  type Logger,
  readHeartbeats,
  readJson,
  type ServiceDefinitions,
} from "@bluegreen/runtime";
import type { KV } from "nats";
import type { AgentSeen } from "./decide.ts";

/** How long one read of every heartbeat is reused (many deploys at once share it). */
const HEARTBEATS_CACHE_MS = 1_000;

/**
 * Reads what pre-flight needs: the service definition (from the followed cache, or straight
 * from KV when it was applied a moment ago), the active-colour record and the heartbeats.
 */
export class FactReader {
  private heartbeats: { at: number; agents: Promise<AgentSeen[]> } | undefined;

  constructor(
    private readonly kv: { services: KV; active: KV; agents: KV },
    private readonly definitions: ServiceDefinitions,
    private readonly logger: Logger,
  ) {}

  async definition(service: string): Promise<Readonly<ServiceDefinition> | undefined> {
    const cached = this.definitions.get(service);
    if (cached !== undefined) return cached;
    const entry = await this.kv.services.get(service);
    if (entry === null || entry.operation !== "PUT") return undefined;
    try {
      return compileStored(service, new TextDecoder().decode(entry.value), entry.revision)
        .definition;
    } catch (err) {
      this.logger.warn({ err, service }, "stored definition does not compile");
      return undefined;
    }
  }

  async active(service: string): Promise<{ record: ActiveRecord; revision: number } | undefined> {
    const entry = await readJson(this.kv.active, service, activeRecordSchema);
    return entry === undefined ? undefined : { record: entry.value, revision: entry.revision };
  }

  /** Every heartbeat not stopped (a read reused for a second unless `fresh`). */
  agents(fresh = false): Promise<AgentSeen[]> {
    const now = Date.now();
    if (!fresh && this.heartbeats !== undefined && now - this.heartbeats.at < HEARTBEATS_CACHE_MS)
      return this.heartbeats.agents;
    const agents = readHeartbeats(this.kv.agents).then((beats) =>
      beats
        .filter((hb) => hb.data.state !== "stopped")
        .map(
          (hb): AgentSeen => ({
            role: hb.data.role,
            agentId: hb.data.agentId,
            services: hb.data.services,
            color: hb.data.color,
            nodes: hb.data.nodes,
            lastSeen: new Date(hb.time),
          }),
        ),
    );
    this.heartbeats = { at: now, agents };
    agents.catch(() => {
      this.heartbeats = undefined;
    });
    return agents;
  }
}
