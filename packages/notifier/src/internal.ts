// What tests need from inside the notifier (not its public face: see index.ts).

export {
  type DeliveryCommand,
  type DeliveryContext,
  type DeliveryInput,
  decide,
  retryDelay,
  type SendAnswer,
} from "./decide.ts";
export * from "./index.ts";
export { Lane } from "./lane.ts";
export { humanDuration, messageFields, renderTemplate } from "./render.ts";
export { globMatch, routeSubject, sinksFor, unknownSinks } from "./routes.ts";
export { readSecret } from "./secrets.ts";
export { classifySmtp } from "./sinks/email.ts";
export { classifyHttp } from "./sinks/sink.ts";
export { slackBody } from "./sinks/slack.ts";
export { staleAgents } from "./stale.ts";
export { buildSinks } from "./start.ts";
