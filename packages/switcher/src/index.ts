export { startSwitcher } from "./agent.ts";
export { type ApplyResult, applyColor, Stage, type StepTimings } from "./apply.ts";
export { readIfExists, restore, writeAtomic } from "./atomic-file.ts";
export { carryOut, resultOf, type SwitchOutcome, type SwitchResult } from "./carry-out.ts";
export { type CommandResult, runCommand } from "./command.ts";
export {
  type ActiveState,
  type Decision,
  decide,
  nextRecord,
  type SwitchRequest,
} from "./decide.ts";
export { DriftAction, driftAction } from "./drift.ts";
export { checkDrift, type DriftReport } from "./drift-check.ts";
export { switchMetrics } from "./metrics.ts";
export type { NginxSettings, SwitchPorts } from "./ports.ts";
export { probeColor } from "./probe.ts";
export { ActiveStore, readActiveRecord, writeActiveRecord } from "./store.ts";
export { Switcher } from "./switcher.ts";
export {
  colorOfFile,
  generationOfFile,
  generationVariable,
  nginxAddress,
  renderUpstream,
} from "./upstream-file.ts";
export { answerShows, colorOfAnswer, verifyThroughNginx } from "./verify.ts";
