import type { Color, SwitchReason } from "@bluegreen/contracts";
import { isWatching, type WatchState } from "./watch-state.ts";

/**
 * What an incoming event means for the service's watch. Pure: the handlers read the stored
 * watch, ask here, and carry the answer out.
 *
 * - a promotion (`switch.done`, reason `promote`) with a deployment id not watched before
 *   starts a watch, superseding a running one of another deployment; the same deployment
 *   again (a redelivery, `changed: false`) is a no-op, and a finished watch never restarts;
 * - a rollback or manual switch to another colour ends the running watch (`switched_away`);
 * - a terminal deployment event ends the running watch of that deployment (`deployment_ended`).
 */

export interface SwitchFacts {
  readonly deploymentId?: string | undefined;
  readonly to: Color;
  readonly reason: SwitchReason;
  readonly changed: boolean;
}

export type StopReason = "superseded" | "deployment_ended" | "switched_away";

export type Decision =
  | { readonly action: "ignore"; readonly why: string }
  | { readonly action: "start"; readonly supersede?: WatchState }
  | { readonly action: "stop"; readonly watch: WatchState; readonly reason: StopReason };

export function onSwitchDone(current: WatchState | undefined, ev: SwitchFacts): Decision {
  if (ev.reason !== "promote") {
    if (!isWatching(current))
      return { action: "ignore", why: `${ev.reason} switch, no watch running` };
    if (ev.to === current.color) {
      return { action: "ignore", why: `${ev.reason} switch to the watched colour ${ev.to}` };
    }
    return { action: "stop", watch: current, reason: "switched_away" };
  }
  if (ev.deploymentId === undefined) {
    return { action: "ignore", why: "promotion without a deployment id: nothing to report to" };
  }
  if (current !== undefined && current.deploymentId === ev.deploymentId) {
    return {
      action: "ignore",
      why: isWatching(current)
        ? "this deployment is already watched (redelivery)"
        : `this deployment's watch already ended (${current.status})`,
    };
  }
  return isWatching(current) ? { action: "start", supersede: current } : { action: "start" };
}

export function onDeploymentEnded(
  current: WatchState | undefined,
  deploymentId: string | undefined,
): Decision {
  if (!isWatching(current)) return { action: "ignore", why: "no watch running" };
  if (deploymentId === undefined || current.deploymentId !== deploymentId) {
    return { action: "ignore", why: `the running watch is for deployment ${current.deploymentId}` };
  }
  return { action: "stop", watch: current, reason: "deployment_ended" };
}
