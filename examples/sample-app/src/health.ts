// What /health reports. Pure: the server passes the clock.

import type { Faults } from "./faults.ts";

export type HealthState =
  | { readonly healthy: true }
  | { readonly healthy: false; readonly reason: "starting" | "injected" };

export function healthState(
  faults: Faults,
  startedAtMs: number,
  slowStartMs: number,
  nowMs: number,
): HealthState {
  if (nowMs - startedAtMs < slowStartMs) return { healthy: false, reason: "starting" };
  if (faults.healthFail) return { healthy: false, reason: "injected" };
  return { healthy: true };
}
