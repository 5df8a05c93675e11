// The `bluegreen` CLI through its library entry (the same `main` its bin runs), in this
// process: the demo does not pay a CLI start-up per command. Output is captured, not printed;
// the live timeline shows what happens.

import { main as cliMain } from "@bluegreen/cli";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout's lines, without empty ones. */
  readonly lines: readonly string[];
}

type CliIo = NonNullable<Parameters<typeof cliMain>[1]>;

/** `bluegreen <args> --server <natsUrl>`. */
export async function runCli(natsUrl: string, args: readonly string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line), tty: false };
  const code = await cliMain([...args, "--server", natsUrl], io);
  return {
    code,
    stdout: out.map((l) => `${l}\n`).join(""),
    stderr: err.map((l) => `${l}\n`).join(""),
    lines: out.flatMap((l) => l.split("\n")).filter((l) => l !== ""),
  };
}
