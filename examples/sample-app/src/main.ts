// Entry point: `bluegreen-sample-app [options]` (see USAGE). Logs one JSON "listening" line
// with the real port, exits 0 on SIGTERM/SIGINT after closing the server.

import { readFileSync } from "node:fs";
import { DEFAULT_VERSION, parseOptions, USAGE } from "./options.ts";
import { createSampleApp, log } from "./server.ts";
import { versionProblem } from "./version.ts";

function fail(message: string): never {
  process.stderr.write(`bluegreen-sample-app: ${message}\n`);
  process.exit(2);
}

const parsed = parseOptions(process.argv.slice(2), process.env);
if (parsed.kind === "help") {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (parsed.kind === "error") fail(`${parsed.problems.join("\n  ")}\n${USAGE}`);
const { options } = parsed;

let version = options.version;
if (version === undefined && options.versionFile !== undefined) {
  try {
    version = readFileSync(options.versionFile, "utf8").trim();
  } catch (error) {
    fail(`cannot read --version-file ${options.versionFile}: ${(error as Error).message}`);
  }
  const problem = versionProblem(version);
  if (problem !== undefined) fail(`${options.versionFile}: ${problem}`);
}

const app = createSampleApp({
  host: options.host,
  port: options.port,
  version: version ?? DEFAULT_VERSION,
  color: options.color,
  faults: options.faults,
  slowStartMs: options.slowStartMs,
});

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log("stopping", { signal });
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));

try {
  const { host, port } = await app.listen();
  log("listening", {
    host,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    version: version ?? DEFAULT_VERSION,
    color: options.color,
    faults: options.faults,
    slowStartMs: options.slowStartMs,
  });
} catch (error) {
  process.stderr.write(
    `bluegreen-sample-app: cannot listen on ${options.host}:${options.port}: ${(error as Error).message}\n`,
  );
  process.exit(1);
}
