import { createHash } from "node:crypto";
import { DEPLOYMENT_ID_PATTERN } from "@bluegreen/contracts";

const MAX_LENGTH = 64;

/**
 * The deployment id of a request: its `deploymentid` extension when given, else its event id
 * made to fit the deployment-id alphabet (`ci-412.1:x` → `ci-412-1-x`).
 */
export function deploymentIdOf(event: { id: string; deploymentid?: string | undefined }): string {
  if (event.deploymentid !== undefined && DEPLOYMENT_ID_PATTERN.test(event.deploymentid))
    return event.deploymentid;
  return sanitizeDeploymentId(event.id);
}

export function sanitizeDeploymentId(raw: string): string {
  const cleaned = raw
    .replace(/[^A-Za-z0-9_-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, MAX_LENGTH);
  if (DEPLOYMENT_ID_PATTERN.test(cleaned)) return cleaned;
  return `d-${createHash("sha256").update(raw).digest("hex").slice(0, 16)}`;
}

/** `d-20261126-4f2a9c`: what `bluegreen deploy` sends, so `--wait` can follow it. */
export function newDeploymentId(
  now: Date = new Date(),
  random: () => number = Math.random,
): string {
  const day = now.toISOString().slice(0, 10).replaceAll("-", "");
  const suffix = Array.from({ length: 6 }, () => Math.floor(random() * 36).toString(36)).join("");
  return `d-${day}-${suffix}`;
}
