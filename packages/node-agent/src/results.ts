import { BgError, type BgEvent, type NodeRef } from "@bluegreen/contracts";
import { createJson, readJson } from "@bluegreen/runtime";
import type { KV } from "nats";
import { z } from "zod";
import { NodeOutcome } from "./deploy-node.ts";

/**
 * What a node agent finished, per (deployment, node), in KV bucket `bluegreen_results`: the
 * outcome and the very events that stated it, so a redelivered `deploy.started` re-publishes
 * them (same ids: the stream de-duplicates) instead of deploying a second time.
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
});
export type ResultRecord = z.infer<typeof resultRecordSchema>;

const KEY_TOKEN = /[^A-Za-z0-9_-]/g;

/** `emily.d-123.127_0_0_1-8001`: KV keys allow only `[-/_=.a-zA-Z0-9]`. */
export function resultKey(service: string, deploymentId: string, node: NodeRef): string {
  return `${service}.${deploymentId}.${node.host.replace(KEY_TOKEN, "_")}-${node.port}`;
}

export class ResultStore {
  constructor(private readonly kv: KV) {}

  async get(key: string): Promise<ResultRecord | undefined> {
    try {
      return (await readJson(this.kv, key, resultRecordSchema))?.value;
    } catch (err) {
      if (err instanceof z.ZodError) return undefined;
      throw err;
    }
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
}

export function storedEvents(record: ResultRecord): BgEvent[] {
  return record.events as BgEvent[];
}
