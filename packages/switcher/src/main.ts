import { agentMain, BLUEGREEN_VERSION } from "@bluegreen/runtime";
import { startSwitcher } from "./start.ts";

await agentMain({
  command: "bluegreen-switcher",
  role: "switcher",
  description: `Runs the switcher agent on the nginx host: owns each served service's active-upstream file,
answers switch.requested with switch.done / switch.failed (nginx test, reload, verification
through nginx), checks the files for drift at start-up.`,
  start: startSwitcher,
  version: BLUEGREEN_VERSION,
  docs: "docs/switcher.md",
});
