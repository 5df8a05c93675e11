// The operator requests a page may send: the same events the CLI's `promote`, `abort` and
// `rollback` publish, through the runtime bus, with the person's name in `by` (the
// coordinator's `requestedBy` of the request). Never a write into KV.

import { isServiceName } from "@bluegreen/contracts";
import type { Bus } from "@bluegreen/runtime";

export const ACTIONS = {
  promote: "deploy.promote_requested",
  abort: "deploy.abort_requested",
  rollback: "deploy.rollback_requested",
} as const;
export type Action = keyof typeof ACTIONS;

export interface ActionRequest {
  action: Action;
  service: string;
  deploymentId: string;
  reason?: string | undefined;
}

const DEPLOYMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The request in a page's JSON body, or why it is not one. */
export function parseActionRequest(body: unknown): ActionRequest | string {
  if (typeof body !== "object" || body === null) return "expected a JSON object";
  const b = body as Record<string, unknown>;
  const known = new Set(["action", "service", "deploymentId", "reason"]);
  const unknown = Object.keys(b).filter((k) => !known.has(k));
  if (unknown.length > 0) return `unknown field(s): ${unknown.join(", ")}`;
  if (typeof b.action !== "string" || !(b.action in ACTIONS))
    return `action must be one of ${Object.keys(ACTIONS).join(", ")}`;
  if (typeof b.service !== "string" || !isServiceName(b.service))
    return "service is not a service name";
  if (typeof b.deploymentId !== "string" || !DEPLOYMENT_ID.test(b.deploymentId))
    return "deploymentId is not a deployment id";
  if (b.reason !== undefined && (typeof b.reason !== "string" || b.reason.length > 512))
    return "reason must be a text of at most 512 characters";
  return {
    action: b.action as Action,
    service: b.service,
    deploymentId: b.deploymentId,
    reason: b.reason === "" ? undefined : (b.reason as string | undefined),
  };
}

/** Publishes the request; resolves with its event id and stream sequence. */
export async function publishAction(
  bus: Bus,
  req: ActionRequest,
  by: string,
): Promise<{ id: string; seq: number }> {
  const result = await bus.emit(ACTIONS[req.action], {
    service: req.service,
    deploymentId: req.deploymentId,
    data: { by: by.slice(0, 128), ...(req.reason === undefined ? {} : { reason: req.reason }) },
  });
  return { id: result.event.id, seq: result.seq };
}
