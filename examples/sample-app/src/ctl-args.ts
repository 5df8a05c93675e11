// Arguments of `bluegreen-sample-app-ctl`. Pure, so every usage error is tested without I/O.

import { parseArgs } from "node:util";
import { versionProblem } from "./version.ts";

export type CtlCommand =
  | {
      readonly kind: "start";
      readonly dir: string;
      readonly port: number;
      readonly color: string;
      readonly host: string;
      readonly timeoutMs: number;
    }
  | { readonly kind: "stop"; readonly dir: string; readonly timeoutMs: number }
  | { readonly kind: "set-version"; readonly dir: string; readonly version: string }
  | { readonly kind: "status"; readonly dir: string }
  | { readonly kind: "help" }
  | { readonly kind: "usage-error"; readonly message: string };

export const CTL_USAGE = `usage: bluegreen-sample-app-ctl <command> --dir DIR [options]
  start --dir D --port P --color C [--host H] [--timeout-ms 10000]
        start the app from D (version from D/VERSION, log D/app.log, pid D/app.pid);
        returns once it listens, fails with the log tail otherwise
  stop --dir D [--timeout-ms 5000]
        SIGTERM the app, SIGKILL after the timeout; succeeds when it is not running
  set-version --dir D VERSION
        write D/VERSION atomically
  status --dir D
        print {"running":...}; exit 0 when running, 3 when not`;

const COLOR_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

export function parseCtlArgs(argv: readonly string[]): CtlCommand {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    return { kind: "help" };
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: {
        dir: { type: "string" },
        port: { type: "string" },
        color: { type: "string" },
        host: { type: "string" },
        "timeout-ms": { type: "string" },
      },
    }));
  } catch (error) {
    return usageError(`${command}: ${(error as Error).message}`);
  }
  const dir = values.dir;
  if (typeof dir !== "string" || dir === "") return usageError(`${command}: --dir is required`);
  const allowed: Record<string, readonly string[]> = {
    start: ["dir", "port", "color", "host", "timeout-ms"],
    stop: ["dir", "timeout-ms"],
    "set-version": ["dir"],
    status: ["dir"],
  };
  const allowedHere = allowed[command];
  if (allowedHere === undefined) return usageError(`unknown command ${JSON.stringify(command)}`);
  for (const key of Object.keys(values)) {
    if (!allowedHere.includes(key)) return usageError(`${command}: --${key} is not an option here`);
  }
  if (command !== "set-version" && positionals.length > 0) {
    return usageError(`${command}: unexpected argument ${JSON.stringify(positionals[0])}`);
  }

  const timeout = (fallback: number): number | string => {
    const raw = values["timeout-ms"];
    if (typeof raw !== "string") return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 600_000) {
      return `${command}: --timeout-ms: expected an integer from 1 to 600000, got ${JSON.stringify(raw)}`;
    }
    return Number(raw);
  };

  switch (command) {
    case "start": {
      const rawPort = values.port;
      if (typeof rawPort !== "string") return usageError("start: --port is required");
      const port = Number(rawPort);
      if (!/^\d+$/.test(rawPort) || port < 1 || port > 65_535) {
        return usageError(`start: --port: expected 1-65535, got ${JSON.stringify(rawPort)}`);
      }
      const color = values.color;
      if (typeof color !== "string") return usageError("start: --color is required");
      if (!COLOR_PATTERN.test(color)) {
        return usageError(
          `start: --color: expected up to 32 of [A-Za-z0-9_-], got ${JSON.stringify(color)}`,
        );
      }
      const host = typeof values.host === "string" ? values.host : "127.0.0.1";
      const timeoutMs = timeout(10_000);
      if (typeof timeoutMs === "string") return usageError(timeoutMs);
      return { kind: "start", dir, port, color, host, timeoutMs };
    }
    case "stop": {
      const timeoutMs = timeout(5_000);
      if (typeof timeoutMs === "string") return usageError(timeoutMs);
      return { kind: "stop", dir, timeoutMs };
    }
    case "set-version": {
      if (positionals.length !== 1) return usageError("set-version: expected exactly one VERSION");
      const version = positionals[0] as string;
      const problem = versionProblem(version);
      if (problem !== undefined) return usageError(`set-version: ${problem}`);
      return { kind: "set-version", dir, version };
    }
    default:
      return { kind: "status", dir };
  }
}

function usageError(message: string): CtlCommand {
  return { kind: "usage-error", message };
}
