import { Buckets, deploymentKey, type ErrorCode } from "@bluegreen/contracts";
import {
  createJson,
  type Decision,
  type Held,
  type RecordStore,
  readJson,
  type StoredRecord,
  updateJson,
} from "@bluegreen/runtime";
import type { KV } from "nats";
import { z } from "zod";
import type { Command } from "./decide/commands.ts";
import { type DeploymentState, deploymentStateSchema } from "./decide/state.ts";

/**
 * Deployments in KV (`bluegreen_deployments`, key `<service>.<deploymentId>`), each written
 * with compare-and-set on its revision. A record carries its outbox: the commands of the last
 * transition, kept until they were carried out, so a coordinator that dies in between
 * carries them out at its next start. For the transition runner the outbox is the record's
 * `pending` commands.
 */
export const storedDeploymentSchema = deploymentStateSchema.extend({
  outbox: z.array(z.custom<Command>((v) => typeof v === "object" && v !== null)).optional(),
});
export type StoredDeployment = z.infer<typeof storedDeploymentSchema>;

/** A deployment as stored: its state, its outbox (`pending`), its KV revision. */
export type Loaded = StoredRecord<DeploymentState, Command>;

function split(stored: StoredDeployment): { state: DeploymentState; pending: Command[] } {
  const { outbox, ...state } = stored;
  return { state, pending: outbox ?? [] };
}

export class DeploymentStore implements RecordStore<DeploymentState, Command> {
  constructor(readonly kv: KV) {}

  static bucket = Buckets.deployments;

  /** The record under a key (`<service>.<deploymentId>`). */
  async load(key: string): Promise<Loaded | undefined> {
    const entry = await readJson(this.kv, key, storedDeploymentSchema);
    if (entry === undefined) return undefined;
    return { ...split(entry.value), revision: entry.revision };
  }

  get(service: string, deploymentId: string): Promise<Loaded | undefined> {
    return this.load(deploymentKey(service, deploymentId));
  }

  /** Creates (revision undefined) or compare-and-sets the record; returns the new revision. */
  save(
    key: string,
    state: DeploymentState,
    pending: readonly Command[],
    revision: number | undefined,
  ): Promise<number> {
    const value: StoredDeployment =
      pending.length === 0 ? state : { ...state, outbox: [...pending] };
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
      try {
        const loaded = await this.load(key);
        if (loaded !== undefined) out.push(loaded);
      } catch (err) {
        onBad?.(key, err);
      }
    }
    return out;
  }
}

const UNKNOWN_SERVICE: ErrorCode = "BG_ERR_CONFIG_UNKNOWN_SERVICE";

/**
 * When a decision is written before its commands run: when it changed the deployment, except
 * a new request, which is stored only once pre-flight answered (its message is acknowledged
 * after that, so a crash before it simply redelivers the request); a request that pre-flight
 * left waiting (queued) is stored on that unchanged answer. A request rejected because its
 * service is not defined is never stored.
 */
export function shouldStore(
  held: Held<DeploymentState, Command> | undefined,
  decision: Decision<DeploymentState, Command>,
): boolean {
  const unstored = held === undefined || held.revision === undefined;
  // A deploy for a service nobody defined is answered, never recorded (no row in `status`).
  if (unstored && decision.state?.outcome?.code === UNKNOWN_SERVICE) return false;
  if (!decision.changed) return held !== undefined && held.revision === undefined;
  const onlyPreflight =
    unstored &&
    decision.commands.length > 0 &&
    decision.commands.every((c) => c.kind === "preflight");
  return !onlyPreflight;
}
