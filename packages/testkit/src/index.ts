// @bluegreen/testkit: the one way to start real nats-server (one node or a cluster), nginx,
// Prometheus, sshd, sample apps and bluegreen's own agents and CLI, on free loopback ports with
// temp dirs, for tests/, scripts/demo and bench/. Every handle has stop() and
// [Symbol.asyncDispose], and leaves no process behind.

export {
  type AgentProcess,
  agentConfig,
  bluegreen,
  type CliResult,
  coordinatorConfig,
  respawnAgent,
  type StartAgentOptions,
  shebangNodeFlags,
  sourceArgs,
  startAgent,
} from "./agents.ts";
export { Binaries, type BinarySpec, findBinary, TestSupportError } from "./binaries.ts";
export { CHROMIUM_PATH, type ChromiumBrowser, launchChromium } from "./chromium.ts";
export {
  type ConnectClientOptions,
  connectClient,
  seedActiveRecord,
  streamEvents,
  type TestClient,
  waitForHeartbeats,
} from "./client.ts";
export { type DashboardProcess, startDashboardProcess } from "./dashboard.ts";
export {
  EventLog,
  eventsByDeployment,
  nextEvent,
  promotedData,
  publishEvent,
  startedData,
  timeline,
} from "./events.ts";
export {
  type LoadOptions,
  type LoadResult,
  type RunningLoad,
  runLoad,
  startLoad,
  total,
} from "./load-client.ts";
export {
  applyWatchDefinition,
  type MonitorProcess,
  promote,
  type StartMonitorOptions,
  startApiTraffic,
  startMonitorProcess,
  type WatchDefinitionOptions,
  watchDefinitionYaml,
} from "./monitor-rig.ts";
export {
  type NatsCluster,
  type NatsClusterNode,
  type NatsConnectOptions,
  type NatsServer,
  type StartNatsClusterOptions,
  type StartNatsOptions,
  startNats,
  startNatsCluster,
} from "./nats.ts";
export { type Nginx, type NginxSiteContext, type StartNginxOptions, startNginx } from "./nginx.ts";
export {
  type AgentBin,
  BINS,
  REPO_ROOT,
  SAMPLE_APP_CTL,
  SAMPLE_APP_MAIN,
  SOURCE_NODE_FLAGS,
  SOURCES,
} from "./paths.ts";
export { canConnect, freePort, freePorts } from "./ports.ts";
export {
  descendantPids,
  type ExitInfo,
  isProcessAlive,
  killAll,
  ManagedProcess,
  OutputTail,
  onExitCleanup,
  pidsWithEnv,
  processGroupMembers,
  runCommand,
  runningProcesses,
  type SpawnProcessOptions,
  type StopOptions,
  spawnProcess,
} from "./process.ts";
export {
  type Prometheus,
  type PromSample,
  type PromTarget,
  type StartPrometheusOptions,
  startPrometheus,
} from "./prometheus.ts";
export {
  type Mail,
  type Received,
  type SmtpReceiver,
  startSmtpReceiver,
  startWebhookReceiver,
  verifySignature,
  type WebhookReceiver,
} from "./receivers.ts";
export {
  type SampleAppFaults,
  type SampleAppHandle,
  type StartSampleAppOptions,
  startSampleApp,
} from "./sample-app.ts";
export { SimAgents, type SimAgentsOptions } from "./sim-agents.ts";
export { SESSION_MARKER, type Sshd, type StartSshdOptions, startSshd } from "./sshd.ts";
export {
  type AgentHandle,
  type Answer,
  exampleSite,
  getOnce,
  RIG_SERVICE,
  type RigOptions,
  StreamLog,
  SwitcherRig,
  type ThroughNginx,
} from "./switcher-rig.ts";
export { makeTempDir, type TempDir } from "./tmp.ts";
export {
  requestOnce,
  type Served,
  settledAnswer,
  startTraffic,
  type TrafficLoop,
  type TrafficOptions,
  type TrafficSample,
} from "./traffic.ts";
export { httpGet, type WaitOptions, waitFor } from "./wait.ts";
