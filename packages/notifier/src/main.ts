import { agentMain } from "@bluegreen/runtime";
import { NOTIFIER_MAIN } from "./start.ts";

await agentMain(NOTIFIER_MAIN);
