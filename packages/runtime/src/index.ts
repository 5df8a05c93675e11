export {
  type AgentContext,
  type RoleConfig,
  type RunAgentOptions,
  type RunningAgent,
  runAgent,
  type StartedAgent,
} from "./agent.ts";
export * from "./audit/index.ts";
export {
  agentSource,
  Bus,
  type BusOptions,
  type ConsumeOptions,
  type Consumption,
  createBus,
  type EmitOptions,
  isWrongLastSequence,
  type PublishResult,
} from "./bus.ts";
export { type AgentCliArgs, parseAgentArgs } from "./cli-args.ts";
export {
  buildAuthenticators,
  type ConnectNatsOptions,
  connectionOptions,
  connectNats,
  type NatsConnectConfig,
} from "./connection.ts";
export type { EventHandler, HandlerContext } from "./consumer.ts";
export * from "./consumer-config.ts";
export {
  compileStored,
  type DefinitionEntry,
  type DefinitionListener,
  putDefinition,
  ServiceDefinitions,
  sha256Hex,
} from "./definitions.ts";
export {
  type Heartbeat,
  type HeartbeatEvent,
  type HeartbeatOptions,
  heartbeatKey,
  isAlive,
  isFresh,
  readHeartbeats,
  startHeartbeat,
} from "./heartbeat.ts";
export {
  type AgentHttp,
  type AgentHttpOptions,
  createMetricsRegistry,
  type Health,
  natsHealth,
  startAgentHttp,
} from "./http.ts";
export {
  type HttpAnswer,
  type HttpCall,
  httpCall,
  nodeUrl,
  UNREACHABLE_CODES,
} from "./http-client.ts";
export { KeyedQueue } from "./keyed-queue.ts";
export {
  type CasRead,
  type CasResult,
  type CasUpdateOptions,
  casUpdate,
  createJson,
  keysOf,
  type Revisioned,
  readJson,
  updateJson,
} from "./kv.ts";
export { Lifecycle, LifecycleState } from "./lifecycle.ts";
export {
  type CreateLoggerOptions,
  childLogger,
  createLogger,
  type LogContext,
  type Logger,
  type LogLevel,
  REDACT_CENSOR,
  redactPaths,
  redactUrl,
} from "./logger.ts";
export { type AgentMainOptions, agentMain } from "./main.ts";
export { metricsOn } from "./metrics.ts";
export { rejectionData } from "./rejection.ts";
export {
  DEFAULT_SIGNALS,
  installShutdown,
  type ShutdownHandle,
  type ShutdownOptions,
} from "./shutdown.ts";
export { sleep, sleepUntil } from "./sleep.ts";
export { type ReadOptions, readStream, type StreamItem } from "./stream-follow.ts";
export {
  AGENTS_MAX_AGE_MS,
  type BucketHandles,
  type BucketName,
  DUPLICATE_WINDOW_MS,
  type EnsureStreamResult,
  ensureBuckets,
  ensureStream,
  type StreamOptions,
} from "./streams.ts";
export {
  isTransientNatsError,
  type RetryTransientOptions,
  retryTransient,
} from "./transient.ts";
export {
  type Decision,
  DeferredError,
  type Held,
  type RecordStore,
  type StoredRecord,
  type Transaction,
  TransitionRunner,
  type TransitionSpec,
} from "./transition.ts";
export { BLUEGREEN_VERSION, VERSION } from "./version.ts";
