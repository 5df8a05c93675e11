// The sample app (examples/sample-app) as a child process: `node --import tsx main.ts`, on a
// free port it picks itself (read from its "listening" line).

import { TestSupportError } from "./binaries.ts";
import { REPO_ROOT, SAMPLE_APP_MAIN } from "./paths.ts";
import { type ManagedProcess, spawnProcess } from "./process.ts";

export interface SampleAppFaults {
  readonly errorRate: number;
  readonly latencyMs: number;
  readonly healthFail: boolean;
}

export interface StartSampleAppOptions {
  readonly color: string;
  readonly version: string;
  /** Default 0: the app picks a free port. */
  readonly port?: number;
  readonly errorRate?: number;
  readonly latencyMs?: number;
  readonly healthFail?: boolean;
  readonly slowStartMs?: number;
  /** Default 15 s (tsx compiles on first start). */
  readonly startTimeoutMs?: number;
}

export interface SampleAppHandle extends AsyncDisposable {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** "host:port", as the app reports it in /health (and Prometheus in `instance`). */
  readonly instance: string;
  readonly color: string;
  readonly version: string;
  readonly process: ManagedProcess;
  readonly pid: number;
  /** POST /admin/faults; returns the faults now in force. */
  setFaults(faults: Partial<SampleAppFaults>): Promise<SampleAppFaults>;
  getFaults(): Promise<SampleAppFaults>;
  stop(): Promise<void>;
}

export async function startSampleApp(options: StartSampleAppOptions): Promise<SampleAppHandle> {
  const host = "127.0.0.1";
  const args = [
    "--import",
    "tsx",
    SAMPLE_APP_MAIN,
    "--host",
    host,
    "--port",
    String(options.port ?? 0),
    "--color",
    options.color,
    "--version",
    options.version,
  ];
  if (options.errorRate !== undefined) args.push("--error-rate", String(options.errorRate));
  if (options.latencyMs !== undefined) args.push("--latency-ms", String(options.latencyMs));
  if (options.healthFail === true) args.push("--health-fail");
  if (options.slowStartMs !== undefined) args.push("--slow-start-ms", String(options.slowStartMs));

  // Only this helper's flags count: SAMPLE_APP_* from the test environment must not leak in.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("SAMPLE_APP_")),
  );
  const proc = await spawnProcess({
    name: `sample-app ${options.color}`,
    command: process.execPath,
    args,
    cwd: REPO_ROOT,
    env,
  });
  let port: number;
  try {
    const line = await proc.waitForLine(
      (l) => l.startsWith("{") && l.includes('"msg":"listening"'),
      { what: 'the sample app\'s "listening" line', timeoutMs: options.startTimeoutMs ?? 15_000 },
    );
    port = (JSON.parse(line) as { port: number }).port;
  } catch (error) {
    await proc.stop();
    throw error;
  }
  const url = `http://${host}:${port}`;

  const faultsCall = async (init?: RequestInit): Promise<SampleAppFaults> => {
    const response = await fetch(`${url}/admin/faults`, {
      ...init,
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await response.json()) as unknown;
    if (!response.ok) {
      throw new TestSupportError(
        `${init?.method ?? "GET"} ${url}/admin/faults: ${response.status} ${JSON.stringify(body)}`,
      );
    }
    return body as SampleAppFaults;
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await proc.stop();
  };

  return {
    url,
    host,
    port,
    instance: `${host}:${port}`,
    color: options.color,
    version: options.version,
    process: proc,
    pid: proc.pid,
    setFaults: (faults) =>
      faultsCall({
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(faults),
      }),
    getFaults: () => faultsCall(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
