// What tests need from inside the node agent (not its public face: see index.ts).
export * from "./decide.ts";
export { NodeEffects, SHUTDOWN } from "./effects.ts";
export * from "./events.ts";
export { sshExecutor, sshGroupHost } from "./executors/ssh.ts";
export { startedExpiresAt } from "./expiry.ts";
export { endGroup, type RunningStep, stillTheStep } from "./interrupted.ts";
export { ACK_WAIT_MS } from "./node-agent.ts";
export { resultRecordSchema } from "./store.ts";
export { selectTargets, servedNodes, type Target } from "./targets.ts";
