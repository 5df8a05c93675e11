// Imported first by main.ts, so that it runs before the bundle evaluates anything else (the
// runtime's modules allocate from the first line on).
//
// An agent is a long-lived process, idle most of the time; two V8 settings take ~9 MB off
// each one's idle RSS (docs/install.md, "Footprint"):
//   --semi-space-growth-factor=1  the young generation stays at its initial 1 MB semi-spaces
//                                 instead of growing to 16 MB (~5 MB); V8 reads it each time
//                                 it would grow them. It is what the source bins'
//                                 `--max-semi-space-size=1` does.
//   --no-turbofan                 V8's optimizing compiler is never loaded (~4 MB: its code in
//                                 the executable's pages, its compile zones); the agents wait
//                                 on NATS, nginx and HTTP, and run as fast without it (the
//                                 coordinator's handler p99 under 200 deployments at once:
//                                 `npm run bench -- fleet`, docs/benchmarks.md).
// Neither can be given to the single executable itself: on its command line it is the CLI's
// argument, and in NODE_OPTIONS it makes V8 reject the executable's code cache (a warning at
// every start, ~14 MB more). Set from here, after the code cache is read, both take effect.
// `BLUEGREEN_AGENT_TURBOFAN=1` in an agent's environment keeps the optimizing compiler.

import { setFlagsFromString } from "node:v8";

/** The V8 flags `bluegreen <argv…>` sets for itself: none unless it runs an agent. */
export function agentV8Flags(argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  if (argv[0] !== "agent") return [];
  const flags = ["--semi-space-growth-factor=1"];
  if (env.BLUEGREEN_AGENT_TURBOFAN !== "1") flags.push("--no-turbofan");
  return flags;
}

for (const flag of agentV8Flags(process.argv.slice(2), process.env)) setFlagsFromString(flag);
