import { agentMain } from "@bluegreen/runtime";
import { COORDINATOR_MAIN } from "./start.ts";

await agentMain(COORDINATOR_MAIN);
