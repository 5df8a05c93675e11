/** @bluegreen/coordinator: the deployment state machine and its shell. */

export { newDeploymentId } from "./decide/deployment-id.ts";
export { PHASES } from "./decide/phases.ts";
export { deploymentStateSchema } from "./decide/state.ts";
export {
  type AgentSeen,
  CONSUMED_EVENTS,
  type Command,
  type Decision,
  type DeploymentState,
  decide,
  deploymentIdOf,
  freezeNow,
  freezeOf,
  type Input,
  isTerminal,
  Phase,
  planOf,
  preflight,
} from "./decide.ts";
export { LEADER_KEY, LeaderElection, type LeaderEvents } from "./leader.ts";
export { type Lease, leaseSchema } from "./lease.ts";
export { Leases } from "./lock.ts";
export {
  COORDINATOR_DURABLE,
  COORDINATOR_MAIN,
  type CoordinatorOptions,
  startCoordinator,
  VERSION,
} from "./start.ts";
export { DeploymentStore, type Loaded, type StoredDeployment } from "./store.ts";
