import { agentMain, BLUEGREEN_VERSION } from "@bluegreen/runtime";
import { startNotifier } from "./start.ts";

await agentMain({
  command: "bluegreen-notifier",
  role: "notifier",
  description: `Runs the notifier agent: reads the event stream and tells people. Routes events
(deploy.rolled_back, deploy.failed, slo.breached, agent.stale, …) by service to webhooks
(signed CloudEvents), Slack-compatible chats and e-mail; each delivery is recorded in KV
(bluegreen_notifications) and retried with backoff until delivered or given up.`,
  start: startNotifier,
  version: BLUEGREEN_VERSION,
  docs: "docs/notifier.md",
});
