// The switcher's public face: how to start it, its record (read by the CLI and the
// dashboard), and the upstream file and verification helpers the demo, benches and suites use.
// What unit tests need from inside comes from internal.ts.
export { switchMetrics } from "./metrics.ts";
export { SWITCHER_MAIN, startSwitcher } from "./start.ts";
export { ActiveStore, readActiveRecord, writeActiveRecord } from "./store.ts";
export { ACK_WAIT_MS, Switcher } from "./switcher.ts";
export {
  colorOfFile,
  generationOfFile,
  generationVariable,
  nginxAddress,
  renderUpstream,
} from "./upstream-file.ts";
export { answerShows, colorOfAnswer, verifyThroughNginx } from "./verify.ts";
