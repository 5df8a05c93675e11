import { Buckets, deploymentKey } from "@bluegreen/contracts";
import { createJson, readJson, updateJson } from "@bluegreen/runtime";
import type { KV } from "nats";
import { z } from "zod";
import type { Command } from "./core/commands.ts";
import { type DeploymentState, deploymentStateSchema } from "./core/state.ts";

/**
 * Deployments in KV (`bluegreen_deployments`, key `<service>.<deploymentId>`), each written
 * with compare-and-set on its revision. A record carries its outbox: the commands of the last
 * transition, kept until they were carried out, so a coordinator that dies in between
 * carries them out at its next start.
 */
export const storedDeploymentSchema = deploymentStateSchema.extend({
  outbox: z.array(z.custom<Command>((v) => typeof v === "object" && v !== null)).optional(),
});
export type StoredDeployment = z.infer<typeof storedDeploymentSchema>;

export interface Loaded {
  state: DeploymentState;
  outbox: Command[];
  revision: number;
}

function split(stored: StoredDeployment): { state: DeploymentState; outbox: Command[] } {
  const { outbox, ...state } = stored;
  return { state, outbox: outbox ?? [] };
}

export class DeploymentStore {
  constructor(readonly kv: KV) {}

  static bucket = Buckets.deployments;

  async get(service: string, deploymentId: string): Promise<Loaded | undefined> {
    const entry = await readJson(
      this.kv,
      deploymentKey(service, deploymentId),
      storedDeploymentSchema,
    );
    if (entry === undefined) return undefined;
    return { ...split(entry.value), revision: entry.revision };
  }

  /** Creates (revision undefined) or compare-and-sets the record; returns the new revision. */
  async put(
    state: DeploymentState,
    outbox: readonly Command[],
    revision: number | undefined,
  ): Promise<number> {
    const key = deploymentKey(state.service, state.deploymentId);
    const value: StoredDeployment = outbox.length === 0 ? state : { ...state, outbox: [...outbox] };
    return revision === undefined
      ? createJson(this.kv, key, value)
      : updateJson(this.kv, key, value, revision);
  }

  /** Keys of every deployment, or of one service's (`emily.*`). */
  async keys(service?: string): Promise<string[]> {
    const out: string[] = [];
    const iter = await this.kv.keys(service === undefined ? undefined : `${service}.*`);
    for await (const key of iter) out.push(key);
    return out;
  }

  /** Every readable deployment (unreadable records are reported through `onBad`). */
  async list(service?: string, onBad?: (key: string, err: unknown) => void): Promise<Loaded[]> {
    const out: Loaded[] = [];
    for (const key of await this.keys(service)) {
      const dot = key.indexOf(".");
      try {
        const loaded = await this.get(key.slice(0, dot), key.slice(dot + 1));
        if (loaded !== undefined) out.push(loaded);
      } catch (err) {
        onBad?.(key, err);
      }
    }
    return out;
  }
}
