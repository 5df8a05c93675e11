import { BgError, type NodeRef } from "@bluegreen/contracts";
import { createJson, type RecordStore, readJson, type StoredRecord } from "@bluegreen/runtime";
import type { KV } from "nats";
import { z } from "zod";
import type { NodeCommand, NodeState, ResultRecord } from "./decide.ts";
import { NodeOutcome } from "./deploy-node.ts";

export type { ResultRecord } from "./decide.ts";

/**
 * What a node agent finished, per (deployment, node), in KV bucket `bluegreen_results`: the
 * outcome and the very events that stated it, so a redelivered `deploy.started` re-publishes
 * them (same ids: the stream de-duplicates) instead of deploying a second time. The only code
 * that reads, writes and parses that record.
 */
export const resultRecordSchema = z.object({
  service: z.string(),
  deploymentId: z.string(),
  node: z.string(),
  color: z.string(),
  version: z.string(),
  outcome: z.enum([
    NodeOutcome.smokePassed,
    NodeOutcome.smokeFailed,
    NodeOutcome.failed,
    NodeOutcome.aborted,
  ]),
  finishedAt: z.string(),
  agentId: z.string(),
  events: z.array(z.unknown()).max(8),
}) satisfies z.ZodType<ResultRecord>;

const KEY_TOKEN = /[^A-Za-z0-9_-]/g;

/** `emily.d-123.127_0_0_1-8001`: KV keys allow only `[-/_=.a-zA-Z0-9]`. */
export function resultKey(service: string, deploymentId: string, node: NodeRef): string {
  return `${service}.${deploymentId}.${node.host.replace(KEY_TOKEN, "_")}-${node.port}`;
}

/**
 * The results bucket, and the transition runner's view of it: a stored result is the
 * `recorded` state of its (deployment, node), with nothing pending.
 */
export class ResultStore implements RecordStore<NodeState, NodeCommand> {
  constructor(private readonly kv: KV) {}

  /** A record that does not parse reads as no record. */
  private async read(key: string) {
    try {
      return await readJson(this.kv, key, resultRecordSchema);
    } catch (err) {
      if (err instanceof z.ZodError) return undefined;
      throw err;
    }
  }

  async get(key: string): Promise<ResultRecord | undefined> {
    return (await this.read(key))?.value;
  }

  /**
   * Records a result unless one exists; returns the record that counts (the existing one if
   * another process got there first).
   */
  async put(key: string, record: ResultRecord): Promise<ResultRecord> {
    try {
      await createJson(this.kv, key, record);
      return record;
    } catch (err) {
      if (err instanceof BgError && err.code === "BG_ERR_KV_CONFLICT") {
        return (await this.get(key)) ?? record;
      }
      throw err;
    }
  }

  async load(key: string): Promise<StoredRecord<NodeState, NodeCommand> | undefined> {
    const read = await this.read(key);
    if (read === undefined) return undefined;
    return {
      state: { phase: "recorded", record: read.value },
      pending: [],
      revision: read.revision,
    };
  }

  /**
   * Not used: the node agent's runner writes nothing itself (`shouldStore` is false). A result
   * is written once, by the `store` command (`put`), whose answer is an input of its own; the
   * states before it live in the process only.
   */
  async save(key: string, state: NodeState): Promise<number> {
    throw new Error(`the node agent stores a result only through put (${key}: ${state.phase})`);
  }
}
