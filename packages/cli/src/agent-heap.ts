// Imported first by main.ts, so that it runs before the bundle evaluates anything else (the
// runtime's modules allocate from the first line on).
//
// An agent is a long-lived process, idle most of the time: V8's young generation stays at its
// initial 1 MB semi-spaces instead of growing (to 16 MB), ~5 MB less RSS per agent
// (docs/install.md, "Footprint"). It is what the source bins' `--max-semi-space-size=1` does;
// that flag cannot be given to the single executable (on its command line it is the CLI's
// argument; in NODE_OPTIONS it makes V8 reject the executable's code cache, with a warning at
// every start). V8 reads this flag each time it would grow the young generation.

import { setFlagsFromString } from "node:v8";

if (process.argv[2] === "agent") setFlagsFromString("--semi-space-growth-factor=1");
