import { Buckets } from "@bluegreen/contracts";
import type { JetStreamClient } from "nats";
import { type DeploymentState, deploymentStateSchema } from "../decide/state.ts";
import { keysOf, openBucket } from "./buckets.ts";

/** The deployments the coordinator stored, newest first (unreadable records are skipped). */
export async function readDeployments(
  js: JetStreamClient,
  service?: string,
): Promise<DeploymentState[]> {
  const kv = await openBucket(js, Buckets.deployments);
  if (kv === undefined) return [];
  const out: DeploymentState[] = [];
  // Keys first: nats.js ends a keys() iteration early when its body awaits.
  for (const key of await keysOf(kv, service === undefined ? undefined : `${service}.*`)) {
    const entry = await kv.get(key);
    if (entry === null || entry.operation !== "PUT") continue;
    try {
      const parsed = deploymentStateSchema.safeParse(
        JSON.parse(new TextDecoder().decode(entry.value)),
      );
      if (parsed.success) out.push(parsed.data);
    } catch {
      // not JSON: skipped
    }
  }
  return out.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
}

export function age(fromIso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(fromIso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** Left-aligned columns, two spaces apart. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}
