// Start-up options of the sample app: command-line flags, then SAMPLE_APP_* environment
// variables, then defaults. Pure: argv and env are passed in, problems are returned.

import { parseArgs } from "node:util";
import { type Faults, MAX_LATENCY_MS } from "./faults.ts";
import { versionProblem } from "./version.ts";

export interface AppOptions {
  readonly host: string;
  /** 0 lets the system pick a free port; the "listening" log line reports the real one. */
  readonly port: number;
  /** Set from --version; undefined when the version is to be read from `versionFile`. */
  readonly version: string | undefined;
  readonly versionFile: string | undefined;
  readonly color: string;
  readonly faults: Faults;
  /** /health answers 503 for this long after start-up. */
  readonly slowStartMs: number;
}

export type ParseOptionsResult =
  | { readonly kind: "options"; readonly options: AppOptions }
  | { readonly kind: "help" }
  | { readonly kind: "error"; readonly problems: readonly string[] };

export const DEFAULT_VERSION = "0.0.0-dev";

export const USAGE = `usage: bluegreen-sample-app [options]
  --host HOST            address to listen on (default 127.0.0.1)      SAMPLE_APP_HOST
  --port N               port, 0 for any free port (default 8000)      SAMPLE_APP_PORT
  --version V            version reported by the app                   SAMPLE_APP_VERSION
  --version-file PATH    read the version from this file instead       SAMPLE_APP_VERSION_FILE
  --color C              colour reported by the app (default blue)     SAMPLE_APP_COLOR
  --error-rate R         share 0..1 of API requests answered 500       SAMPLE_APP_ERROR_RATE
  --latency-ms N         delay added to API and /health responses      SAMPLE_APP_LATENCY_MS
  --health-fail          /health answers 503                           SAMPLE_APP_HEALTH_FAIL
  --slow-start-ms N      /health answers 503 for the first N ms        SAMPLE_APP_SLOW_START_MS
  --help                 print this help`;

const COLOR_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

type Env = Readonly<Record<string, string | undefined>>;

export function parseOptions(argv: readonly string[], env: Env): ParseOptionsResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        version: { type: "string" },
        "version-file": { type: "string" },
        color: { type: "string" },
        "error-rate": { type: "string" },
        "latency-ms": { type: "string" },
        "health-fail": { type: "boolean" },
        "slow-start-ms": { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    return { kind: "error", problems: [(error as Error).message] };
  }
  if (values.help === true) return { kind: "help" };

  const problems: string[] = [];
  const pick = (flag: string, envName: string): string | undefined => {
    const fromFlag = values[flag];
    if (typeof fromFlag === "string") return fromFlag;
    const fromEnv = env[envName];
    return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
  };
  const integer = (flag: string, envName: string, fallback: number, max: number): number => {
    const raw = pick(flag, envName);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n > max) {
      problems.push(
        `--${flag} (${envName}): expected an integer from 0 to ${max}, got ${JSON.stringify(raw)}`,
      );
      return fallback;
    }
    return n;
  };

  const host = pick("host", "SAMPLE_APP_HOST") ?? "127.0.0.1";
  const port = integer("port", "SAMPLE_APP_PORT", 8000, 65_535);
  const latencyMs = integer("latency-ms", "SAMPLE_APP_LATENCY_MS", 0, MAX_LATENCY_MS);
  const slowStartMs = integer("slow-start-ms", "SAMPLE_APP_SLOW_START_MS", 0, 3_600_000);

  let errorRate = 0;
  const rawRate = pick("error-rate", "SAMPLE_APP_ERROR_RATE");
  if (rawRate !== undefined) {
    const rate = Number(rawRate);
    if (rawRate.trim() === "" || !Number.isFinite(rate) || rate < 0 || rate > 1) {
      problems.push(
        `--error-rate (SAMPLE_APP_ERROR_RATE): expected a number from 0 to 1, got ${JSON.stringify(rawRate)}`,
      );
    } else errorRate = rate;
  }

  let healthFail = values["health-fail"] === true;
  const rawHealthFail = env.SAMPLE_APP_HEALTH_FAIL;
  if (!healthFail && rawHealthFail !== undefined && rawHealthFail !== "") {
    const flag = parseBoolean(rawHealthFail);
    if (flag === undefined) {
      problems.push(
        `SAMPLE_APP_HEALTH_FAIL: expected true/false/1/0, got ${JSON.stringify(rawHealthFail)}`,
      );
    } else healthFail = flag;
  }

  const color = pick("color", "SAMPLE_APP_COLOR") ?? "blue";
  if (!COLOR_PATTERN.test(color)) {
    problems.push(
      `--color (SAMPLE_APP_COLOR): expected up to 32 of [A-Za-z0-9_-], got ${JSON.stringify(color)}`,
    );
  }

  // A flag beats the environment as a whole: --version-file overrides SAMPLE_APP_VERSION.
  const versionFlag = typeof values.version === "string" ? values.version : undefined;
  const versionFileFlag =
    typeof values["version-file"] === "string" ? values["version-file"] : undefined;
  if (versionFlag !== undefined && versionFileFlag !== undefined) {
    problems.push("--version and --version-file: give one, not both");
  }
  let version: string | undefined;
  let versionFile: string | undefined;
  if (versionFlag !== undefined) version = versionFlag;
  else if (versionFileFlag !== undefined) versionFile = versionFileFlag;
  else {
    version = pick("version", "SAMPLE_APP_VERSION");
    versionFile =
      version === undefined ? pick("version-file", "SAMPLE_APP_VERSION_FILE") : undefined;
    if (version === undefined && versionFile === undefined) version = DEFAULT_VERSION;
  }
  if (version !== undefined) {
    const problem = versionProblem(version);
    if (problem !== undefined) problems.push(`--version (SAMPLE_APP_VERSION): ${problem}`);
  }

  if (problems.length > 0) return { kind: "error", problems };
  return {
    kind: "options",
    options: {
      host,
      port,
      version,
      versionFile,
      color,
      faults: { errorRate, latencyMs, healthFail },
      slowStartMs,
    },
  };
}

export function parseBoolean(raw: string): boolean | undefined {
  const value = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  return undefined;
}
