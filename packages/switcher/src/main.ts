import { agentMain } from "@bluegreen/runtime";
import { SWITCHER_MAIN } from "./start.ts";

await agentMain(SWITCHER_MAIN);
