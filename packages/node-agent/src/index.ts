export {
  deployNode,
  type NodeDeployInput,
  type NodeDeployResult,
  NodeOutcome,
} from "./deploy-node.ts";
export * from "./executors/executor.ts";
export { defaultExecutorFactory, type ExecutorFactory } from "./executors/factory.ts";
export { knownHostsName } from "./executors/known-hosts.ts";
export { localExecutor } from "./executors/local.ts";
export { quoteForShell, remoteCommandLine } from "./executors/shell-quote.ts";
// The SSH executor itself (node-ssh, ssh2) is loaded on first use: defaultExecutorFactory,
// or sshExecutor from ./internal.ts.
export type { SshTarget } from "./executors/ssh.ts";
export { createNodeAgentMetrics, type NodeAgentMetrics } from "./metrics.ts";
export { type DefinitionSource, NodeAgent, type NodeAgentDeps } from "./node-agent.ts";
export { OutputBuffer } from "./output-buffer.ts";
export { type DeployPlan, planDeploy } from "./plan.ts";
export { waitForReady } from "./readiness.ts";
export { runSmokeChecks } from "./smoke/run-checks.ts";
export { judgeHttpAnswer } from "./smoke/verdict.ts";
export {
  NODE_AGENT_MAIN,
  NODE_AGENT_VERSION,
  type StartNodeAgentOptions,
  startNodeAgent,
} from "./start.ts";
export { type ResultRecord, ResultStore, resultKey } from "./store.ts";
