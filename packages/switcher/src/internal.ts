// What tests need from inside the switcher (not its public face: see index.ts).

export { readIfExists, restore, writeAtomic } from "./atomic-file.ts";
export { type CommandResult, runCommand } from "./command.ts";
export {
  type ActiveState,
  checkFence,
  decide,
  type FenceCheck,
  madeBy,
  nextRecord,
  type SwitchCommand,
  type SwitchContext,
  type SwitcherState,
  type SwitchInput,
  type SwitchRequest,
} from "./decide.ts";
export { DriftAction, driftAction } from "./drift.ts";
export { checkDrift, type DriftReport } from "./drift-check.ts";
export { SwitchEffects } from "./effects.ts";
export * from "./index.ts";
export { type NginxResult, nginxSteps, Stage, type StepTimings } from "./nginx.ts";
export { resultOf, type SwitchOutcome, type SwitchResult } from "./outcome.ts";
export type { NginxSettings, SwitchPorts } from "./ports.ts";
export { probeColor } from "./probe.ts";
export { parseRequestLine, RequestLogReader, WindowFold } from "./request-log.ts";
export { nginxSettings, switchRunner } from "./start.ts";
