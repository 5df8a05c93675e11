import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export type { Logger } from "pino";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

/** Property names whose values are secrets wherever they appear in a log object. */
export const SECRET_KEYS = [
  "pass",
  "password",
  "token",
  "passphrase",
  "authorization",
  "Authorization",
  "cookie",
  "secret",
  "nkey",
  "seed",
  "nkey_seed",
  "creds",
  "jwt",
  "private_key",
  "privateKey",
] as const;

/** How deep below the log object a secret key is still found (`nats.pass` is depth 1). */
const REDACT_DEPTH = 4;
export const REDACT_CENSOR = "[redacted]";

/**
 * pino `redact` paths for every secret key at every depth up to REDACT_DEPTH:
 * `pass`, `*.pass`, `*.*.pass`, … (pino wildcards match exactly one level).
 */
export function redactPaths(keys: readonly string[] = SECRET_KEYS, depth = REDACT_DEPTH): string[] {
  const paths: string[] = [];
  for (let level = 0; level <= depth; level++) {
    const prefix = "*.".repeat(level);
    for (const key of keys) paths.push(`${prefix}${key}`);
  }
  return paths;
}

export interface CreateLoggerOptions {
  level?: LogLevel;
  /** Bound on every line, e.g. `{ role, agentId }`. */
  base?: Record<string, unknown>;
  /** Where lines go; stdout when omitted. Tests pass a stream to capture output. */
  destination?: DestinationStream;
}

export function loggerOptions(opts: CreateLoggerOptions = {}): LoggerOptions {
  return {
    level: opts.level ?? "info",
    base: { pid: process.pid, ...opts.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(), censor: REDACT_CENSOR },
    formatters: { level: (label) => ({ level: label }) },
  };
}

/** The one root logger of a process: JSON lines to stdout, secrets redacted by pino. */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  return opts.destination === undefined
    ? pino(loggerOptions(opts))
    : pino(loggerOptions(opts), opts.destination);
}

export interface LogContext {
  component: string;
  service?: string | undefined;
  deploymentId?: string | undefined;
  [key: string]: unknown;
}

/** A child logger carrying `component` and, when known, `service` and `deploymentId`. */
export function childLogger(root: Logger, ctx: LogContext): Logger {
  const bindings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ctx)) if (v !== undefined) bindings[k] = v;
  return root.child(bindings);
}

/** `nats://user:secret@host:4222` → `nats://host:4222`, for log lines and error messages. */
export function redactUrl(url: string): string {
  return url.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)?[^@/]*@/i,
    (_whole, scheme: string | undefined) => scheme ?? "",
  );
}
