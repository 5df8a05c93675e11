// runLoad in a worker thread, so the client's own work does not slow down the agent's event
// loop in the test process. Started by `startLoad`; stops when the shared flag is set.

import { parentPort, workerData } from "node:worker_threads";
import { type LoadOptions, runLoad } from "./load-client.ts";

const { options, flag } = workerData as {
  options: Omit<LoadOptions, "stop">;
  flag: SharedArrayBuffer;
};
const stop = new Int32Array(flag);
const run = runLoad({ ...options, stop: () => Atomics.load(stop, 0) === 1 });
parentPort?.postMessage({ type: "started" });
parentPort?.postMessage({ type: "result", result: await run });
