// The example NATS config (deploy/nats/nats-server.conf) made runnable in a test: the passwords
// file it includes is written with bcrypt hashes of known test passwords, and the host paths
// (store dir, include path) point into a temp dir. Also the role table: which events each role
// publishes, derived from the `producer` of every event in contracts.

import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { EVENTS, type EventName } from "@bluegreen/contracts";
import { REPO_ROOT, type TempDir } from "@bluegreen/testkit";

export const NATS_CONFIG_PATH = join(REPO_ROOT, "deploy/nats/nats-server.conf");
export const PASSWORDS_EXAMPLE_PATH = join(
  REPO_ROOT,
  "deploy/nats/bluegreen-passwords.conf.example",
);

export const Role = {
  coordinator: "coordinator",
  switcher: "switcher",
  nodeAgent: "node-agent",
  monitor: "monitor",
  notifier: "notifier",
  ci: "ci",
  operator: "operator",
  auditor: "auditor",
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES = Object.values(Role);

/** Test passwords and their bcrypt hashes (cost 4: fast), as an operator would store them. */
export const TEST_USERS: Readonly<Record<Role, { pass: string; hash: string; variable: string }>> =
  {
    coordinator: {
      pass: "test-coordinator-secret",
      hash: "$2b$04$UWqx/LrikWezbB/R4qQHi.eiQGJqg5.mXo2/3949FoeOYbaezLdGi",
      variable: "BG_NATS_COORDINATOR_PASS",
    },
    switcher: {
      pass: "test-switcher-secret",
      hash: "$2b$04$nR6LLiCxjUuBlwU4lDV2S.ShXN/0E6SE60iTlm8P9Q.pdpVzQ9aii",
      variable: "BG_NATS_SWITCHER_PASS",
    },
    "node-agent": {
      pass: "test-node-agent-secret",
      hash: "$2b$04$zxFBt7G0YSnJ4BYLPPA5i.PdQrQ.2WXDV7j0IaKuBATnD6y8zoIUi",
      variable: "BG_NATS_NODE_AGENT_PASS",
    },
    monitor: {
      pass: "test-monitor-secret",
      hash: "$2b$04$7GkO0BeQCt6qsNUadwNPhe.DljoIrjCnoRh3gOWtrcisQlsYqzSQO",
      variable: "BG_NATS_MONITOR_PASS",
    },
    notifier: {
      pass: "test-notifier-secret",
      hash: "$2b$04$/ZhHybRDWf8UfcX6UBsLFe0KtXml8el.BXOtSofYjfAaogn5ewMzC",
      variable: "BG_NATS_NOTIFIER_PASS",
    },
    ci: {
      pass: "test-ci-secret",
      hash: "$2b$04$8XyyNGo.7uDtzowts77Bf.9C9W64cI9yJDQRnxRaPfpdvKp7/IjzK",
      variable: "BG_NATS_CI_PASS",
    },
    operator: {
      pass: "test-operator-secret",
      hash: "$2b$04$fjSyuwBIYhE9.Bk6IYzF4uPsUFDT1pum6L55qVeX3kQEVSRm5441u",
      variable: "BG_NATS_OPERATOR_PASS",
    },
    auditor: {
      pass: "test-auditor-secret",
      hash: "$2b$04$fLiePrgWMYI/dy8iBJa.BeM41bjxjcUUGdY0cix8obGZ.fRg93AN6",
      variable: "BG_NATS_AUDITOR_PASS",
    },
  };

/**
 * The example config with the passwords file written beside it in `dir` and the host-specific
 * paths replaced. Fails loudly when a line it must replace is no longer in the example.
 */
export function runnableConfig(dir: TempDir): string {
  const passwords = ROLES.map((r) => `${TEST_USERS[r].variable}: "${TEST_USERS[r].hash}"`);
  const passwordsPath = dir.file("bluegreen-passwords.conf");
  writeFileSync(passwordsPath, `${passwords.join("\n")}\n`);
  let text = readFileSync(NATS_CONFIG_PATH, "utf8");
  const replace = (pattern: RegExp, value: string) => {
    if (!pattern.test(text)) throw new Error(`${NATS_CONFIG_PATH}: no line matches ${pattern}`);
    text = text.replace(pattern, value);
  };
  // nats-server resolves an include relative to the config file's own directory (even a path
  // starting with /); startNats writes the config into a sibling temp dir of `dir`.
  const included = `../${basename(dir.path)}/bluegreen-passwords.conf`;
  replace(/^include "bluegreen-passwords\.conf"$/m, `include ${JSON.stringify(included)}`);
  // startNats passes -a/-p/-m and -sd (its own temp store): the flags win over listen/http, and
  // a store_dir in the file would clash with -sd.
  replace(/^\s*store_dir:.*$/m, "  # store_dir: given by startNats (-sd)");
  replace(/^listen: .*$/m, "listen: 127.0.0.1:-1");
  replace(/^http: .*$/m, "http: 127.0.0.1:-1");
  return text;
}

/**
 * The config's commented `tls { … }` block turned on, with the certificate paths replaced
 * (`files` maps each path in the example to a real one).
 */
export function withTls(config: string, files: Readonly<Record<string, string>>): string {
  const block = /^# tls \{\n(?:#.*\n)*?# \}$/m;
  const found = block.exec(config);
  if (found === null) throw new Error(`${NATS_CONFIG_PATH}: no commented tls { } block`);
  let tls = found[0].replace(/^# ?/gm, "");
  for (const [example, real] of Object.entries(files)) {
    if (!tls.includes(example)) throw new Error(`${NATS_CONFIG_PATH}: tls block lacks ${example}`);
    tls = tls.replace(example, real);
  }
  return config.replace(block, tls);
}

/** Who, per contracts, produces each audit event, mapped to the NATS user of that producer. */
export function producersOf(name: EventName): Role[] {
  const producer = EVENTS[name].producer;
  const roles = new Set<Role>();
  if (producer.includes("every agent")) {
    for (const r of [Role.coordinator, Role.switcher, Role.nodeAgent, Role.monitor, Role.notifier])
      roles.add(r);
  }
  for (const r of [Role.coordinator, Role.switcher, Role.nodeAgent, Role.monitor, Role.notifier]) {
    if (new RegExp(`(^|[ ,])${r}($|[ ,])`).test(producer)) roles.add(r);
  }
  if (/(^|[ ,])CI($|[ ,])/.test(producer)) roles.add(Role.ci);
  // `bluegreen deploy`, `bluegreen apply`…: the CLI at an operator's terminal (CI runs
  // `bluegreen deploy` too, and that is covered by the "CI" producer).
  if (producer.includes("`bluegreen ")) roles.add(Role.operator);
  return [...roles];
}

/** The audit events (the ones that travel on the stream) a role may publish. */
export function eventsPublishedBy(role: Role): EventName[] {
  return (Object.keys(EVENTS) as EventName[]).filter(
    (name) => EVENTS[name].audit && producersOf(name).includes(role),
  );
}
