/**
 * What tests need from inside the coordinator (the public face is `index.ts`): the shell's
 * parts, and the pure side's helpers beyond `decide`.
 */

export {
  type CheckpointFacts,
  type CheckpointPolicy,
  nextCheckpointRange,
} from "./checkpoint-policy.ts";
export { Checkpointer, type CheckpointerOptions, judgeCheckpoint } from "./checkpoints.ts";
export {
  Coordinator,
  type CoordinatorDeps,
  RECOVERY_GRACE_MS,
  type Tracked,
} from "./coordinator.ts";
export * from "./decide.ts";
export { Effects, type EffectsDeps, type Replay, replayOf } from "./effects.ts";
export { FactReader } from "./facts.ts";
export * from "./index.ts";
export { LeaseVerdict, leaseVerdict, newLease, releasedLease } from "./lease.ts";
export { type AcquireResult, type ReadLease, readLease } from "./lock.ts";
export { CoordinatorMetrics } from "./metrics.ts";
export { shouldStore, storedDeploymentSchema } from "./store.ts";
export { streamLookup } from "./stream-lookup.ts";
export { DeadlineTimers } from "./timers.ts";
