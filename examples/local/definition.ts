// Renders examples/local/service.yaml for this machine: the demo and the node agent's suites
// deploy the sample app with it.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const LOCAL_SERVICE = "local-app";
export const LOCAL_TEMPLATE = fileURLToPath(new URL("./service.yaml", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

export interface LocalDefinitionOptions {
  /** Where the apps keep their state, one directory per colour (`local-app-green`). */
  readonly stateDir: string;
  readonly bluePort: number;
  readonly greenPort: number;
  /** Default `agent`: the node agent runs the steps itself. */
  readonly executor?: "agent" | "ssh";
  /** SSH port of the nodes (127.0.0.1), for `executor: ssh`. Default 22. */
  readonly sshPort?: number;
  readonly upstreamFile?: string;
  readonly verifyUrl?: string;
  readonly prometheusUrl?: string;
  /** Default: this process' node binary. */
  readonly node?: string;
}

/** The YAML text of the local definition, ready for `bluegreen apply -f` or `putDefinition`. */
export function renderLocalDefinition(opts: LocalDefinitionOptions): string {
  const tokens: Record<string, string> = {
    NODE: opts.node ?? process.execPath,
    REPO: REPO_ROOT,
    STATE_DIR: opts.stateDir,
    BLUE_PORT: String(opts.bluePort),
    GREEN_PORT: String(opts.greenPort),
    EXECUTOR: opts.executor ?? "agent",
    SSH_PORT: String(opts.sshPort ?? 22),
    UPSTREAM_FILE: opts.upstreamFile ?? `${opts.stateDir}/nginx/local-app-active.conf`,
    VERIFY_URL: opts.verifyUrl ?? `http://127.0.0.1:${opts.bluePort}/health`,
    PROMETHEUS_URL: opts.prometheusUrl ?? "http://127.0.0.1:9090",
  };
  const template = readFileSync(LOCAL_TEMPLATE, "utf8");
  return template.replace(
    /__([A-Z]+(?:_[A-Z]+)*)__/g,
    (whole, name: string) => tokens[name] ?? whole,
  );
}
