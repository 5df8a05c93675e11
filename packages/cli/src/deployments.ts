import { type DeploymentState, DeploymentStore } from "@bluegreen/coordinator";
import type { JetStreamClient } from "nats";
import { openBucket } from "./buckets.ts";

/**
 * A request rejected because its service was never defined: not a deployment of anything
 * (the coordinator stores none now; records stored before are left out of status and history).
 */
export function neverDefined(d: DeploymentState): boolean {
  return d.phase === "rejected" && d.outcome?.code === "BG_ERR_CONFIG_UNKNOWN_SERVICE";
}

/**
 * The deployments the coordinator stored, read through its store, newest first (unreadable
 * records are skipped; between two requested at the same time, the lower key comes first).
 */
export async function readDeployments(
  js: JetStreamClient,
  service?: string,
): Promise<DeploymentState[]> {
  const kv = await openBucket(js, DeploymentStore.bucket);
  if (kv === undefined) return [];
  const loaded = await new DeploymentStore(kv).list(service);
  return loaded
    .map((d) => d.state)
    .filter((d) => !neverDefined(d))
    .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt) || byKey(a, b));
}

/** The order of the KV keys (`<service>.<deploymentId>`), as `Array.prototype.sort` has it. */
function byKey(a: DeploymentState, b: DeploymentState): number {
  const [ka, kb] = [`${a.service}.${a.deploymentId}`, `${b.service}.${b.deploymentId}`];
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** One stored deployment, or undefined when the coordinator never stored that id. */
export async function storedDeployment(
  js: JetStreamClient,
  service: string,
  deploymentId: string,
): Promise<DeploymentState | undefined> {
  const kv = await openBucket(js, DeploymentStore.bucket);
  if (kv === undefined) return undefined;
  return (await new DeploymentStore(kv).get(service, deploymentId))?.state;
}
