/** The JetStream KV buckets bluegreen keeps its state in. */
export const Buckets = {
  /** Service definitions, one key per service (`emily`), written by `bluegreen apply`. */
  services: "bluegreen_services",
  /** The active colour per service, the switch fence (`emily` → {color, version, …}). */
  active: "bluegreen_active",
  /** Deployment state, one key per deployment (`emily.<deploymentId>`), written by the coordinator. */
  deployments: "bluegreen_deployments",
  /** Per-service deploy locks (`emily`) and the coordinator leader lease (`_leader`). */
  locks: "bluegreen_locks",
  /** Agent heartbeats (`<role>.<agentId>`): not audit material, so outside the stream. */
  agents: "bluegreen_agents",
  /** Monitor watch state (`emily`), so a restarted monitor resumes its window. */
  watches: "bluegreen_watches",
  /** Node-agent results per deployment and node, so redelivery never deploys twice. */
  results: "bluegreen_results",
  /** Notifier deliveries, one key per (sink, event id), so a restart never sends twice. */
  notifications: "bluegreen_notifications",
} as const;
export type Bucket = (typeof Buckets)[keyof typeof Buckets];

/** KV keys allow `[-/_=.a-zA-Z0-9]`; deployment ids are kept inside that alphabet. */
export const KV_KEY_PATTERN = /^[-/_=.a-zA-Z0-9]+$/;

export function deploymentKey(service: string, deploymentId: string): string {
  return `${service}.${deploymentId}`;
}
