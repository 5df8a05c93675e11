// `examples/local/bin/node-ctl.js <ctl args>`: the sample app's ctl as a deploy step, with the
// node's host, port and colour taken from the BLUEGREEN_* variables the node agent sets (see
// node-ctl-args.ts). Runs the ctl as a child without a shell and exits with its exit code.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ctlArgs } from "./node-ctl-args.ts";

const CTL = fileURLToPath(new URL("../sample-app/bin/sample-app-ctl.js", import.meta.url));

const child = spawn(process.execPath, [CTL, ...ctlArgs(process.argv.slice(2), process.env)], {
  stdio: "inherit",
  shell: false,
});
child.once("error", (error) => {
  process.stderr.write(`node-ctl: cannot run ${CTL}: ${error.message}\n`);
  process.exit(1);
});
child.once("exit", (code, signal) => {
  process.exit(code ?? (signal === null ? 1 : 128));
});
