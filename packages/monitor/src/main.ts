import { agentMain } from "@bluegreen/runtime";
import { MONITOR_MAIN } from "./start.ts";

await agentMain(MONITOR_MAIN);
