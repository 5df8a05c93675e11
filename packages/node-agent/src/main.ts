import { agentMain } from "@bluegreen/runtime";
import { NODE_AGENT_MAIN } from "./start.ts";

await agentMain(NODE_AGENT_MAIN);
