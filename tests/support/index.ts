// Test support: one helper per real component, one way to start each. Every handle has
// stop() and [Symbol.asyncDispose], and leaves no process behind.

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
export { canConnect, freePort, freePorts } from "./ports.ts";
export {
  Binaries,
  type BinarySpec,
  descendantPids,
  type ExitInfo,
  findBinary,
  httpGet,
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
  TestSupportError,
  type WaitOptions,
  waitFor,
} from "./process.ts";
export {
  type Prometheus,
  type PromSample,
  type PromTarget,
  type StartPrometheusOptions,
  startPrometheus,
} from "./prometheus.ts";
export {
  REPO_ROOT,
  SAMPLE_APP_CTL,
  SAMPLE_APP_MAIN,
  type SampleAppFaults,
  type SampleAppHandle,
  type StartSampleAppOptions,
  startSampleApp,
} from "./sample-app.ts";
export { SESSION_MARKER, type Sshd, type StartSshdOptions, startSshd } from "./sshd.ts";
export { makeTempDir, type TempDir } from "./tmp.ts";
