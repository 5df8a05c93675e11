export { type Bucket, Buckets, deploymentKey, KV_KEY_PATTERN } from "./buckets.ts";
export {
  CONTRACT_VERSION,
  CONTRACT_VERSION_STRING,
  type ContractVersion,
  dataschemaUri,
  readingOf,
  versionOfDataschema,
} from "./compat.ts";
export * from "./config/agents.ts";
export * from "./config/compile.ts";
export * from "./config/service.ts";
export { durationSchema, formatDuration, parseDuration } from "./duration.ts";
export * from "./envelope.ts";
export * from "./errors.ts";
export * from "./events/index.ts";
export * from "./issues.ts";
export * from "./jsonschema.ts";
export * from "./names.ts";
export * from "./placeholders.ts";
export * from "./request-window.ts";
export * from "./state.ts";
export * from "./subjects.ts";
export { closestName, editDistance } from "./suggest.ts";
export * from "./version.ts";
