/** @bluegreen/coordinator: the deployment state machine and its shell. */

export { COORDINATOR_DURABLE, type CoordinatorOptions, startCoordinator } from "./coordinator.ts";
export type { Command } from "./core/commands.ts";
export { type Decision, decide } from "./core/decide.ts";
export { deploymentIdOf, newDeploymentId } from "./core/deployment-id.ts";
export { CONSUMED_EVENTS, type Input } from "./core/inputs.ts";
export { isTerminal, PHASES, Phase } from "./core/phases.ts";
export { type AgentSeen, preflight } from "./core/preflight.ts";
export { type DeploymentState, deploymentStateSchema } from "./core/state.ts";
export { LEADER_KEY, LeaderElection, type LeaderEvents } from "./leader.ts";
export { type Lease, leaseSchema } from "./lease.ts";
export { Leases } from "./lock.ts";
export { DeploymentStore, type Loaded, type StoredDeployment } from "./store.ts";
