import { execFile } from "node:child_process";

/**
 * Runs one configured command (an argv array, never through a shell) with a deadline, and
 * keeps what it printed: nginx writes its verdict on stderr, which `switch.failed` carries.
 */

export const OUTPUT_LIMIT = 4096;

export interface CommandResult {
  ok: boolean;
  /** Exit code, or null when it was killed or could not start. */
  code: number | null;
  /** stdout then stderr, trimmed and clipped to the last OUTPUT_LIMIT characters. */
  output: string;
  durationMs: number;
}

/** The end of a long output matters most (nginx names the failing line last). */
export function clipOutput(text: string, limit = OUTPUT_LIMIT): string {
  const trimmed = text.trim();
  return trimmed.length <= limit ? trimmed : `…${trimmed.slice(trimmed.length - limit + 1)}`;
}

export function runCommand(argv: readonly string[], timeoutMs: number): Promise<CommandResult> {
  const started = performance.now();
  const [program, ...args] = argv;
  return new Promise((resolve) => {
    if (program === undefined) {
      resolve({ ok: false, code: null, output: "empty command", durationMs: 0 });
      return;
    }
    execFile(
      program,
      args,
      { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 1024 * 1024, windowsHide: true },
      (error, stdout, stderr) => {
        const durationMs = performance.now() - started;
        const printed = `${stdout}${stdout && stderr ? "\n" : ""}${stderr}`;
        if (error === null) {
          resolve({ ok: true, code: 0, output: clipOutput(printed), durationMs });
          return;
        }
        const err = error as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
        const why =
          typeof err.code === "string"
            ? `cannot run ${program}: ${err.code}`
            : err.killed
              ? `${program} did not finish within ${timeoutMs} ms and was killed`
              : "";
        resolve({
          ok: false,
          code: typeof err.code === "number" ? err.code : null,
          output: clipOutput([printed, why].filter((s) => s.trim() !== "").join("\n")),
          durationMs,
        });
      },
    );
  });
}
