// Given a nats-server with the example config (deploy/nats/nats-server.conf) and the four
// systemd units: when each unit's ExecStart runs as written (from this checkout's sources with the bin's node flags, its config
// file at a temp path, logged in as its role's NATS user through a pass_file), then every agent
// comes up and heartbeats, the operator sees them with `bluegreen agents`, CI gets an answer
// from the coordinator to `bluegreen deploy --wait`, the server refused nobody anything, and on
// SIGTERM (the units' KillSignal) every agent exits 0.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Buckets } from "@bluegreen/contracts";
import { isAlive, readHeartbeats } from "@bluegreen/runtime";
import {
  freePorts,
  httpGet,
  type ManagedProcess,
  makeTempDir,
  type NatsServer,
  REPO_ROOT,
  runCommand,
  shebangNodeFlags,
  sourceArgs,
  spawnProcess,
  startNats,
  type TempDir,
  waitFor,
} from "@bluegreen/testkit";
import { connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role, runnableConfig, TEST_USERS } from "./nats-example.ts";
import {
  AGENT_UNITS,
  type AgentRoleName,
  execStart,
  readUnit,
  repoBin,
  UNITS_DIR,
} from "./units.ts";

/** A service nobody defined: the agents have nothing to do, and a deploy of it is refused. */
const SERVICE = "ops-demo";
/** A bound, not a pause: generous because four Node processes start at once on two cores. */
const WAIT_MS = 30_000;
/** The testkit's name of each role's bin. */
const BIN_KEYS = {
  coordinator: "coordinator",
  switcher: "switcher",
  "node-agent": "nodeAgent",
  monitor: "monitor",
  notifier: "notifier",
} as const satisfies Record<AgentRoleName, string>;

/** What each role's config adds to the common part (docs/operations.md, "Config files"). */
const ROLE_CONFIG: Record<AgentRoleName, string> = {
  coordinator: "",
  switcher: `services: [${SERVICE}]\n`,
  "node-agent": `serves:\n  - { service: ${SERVICE}, color: blue }\n`,
  monitor: `services: [${SERVICE}]\n`,
  notifier: `sinks:\n  - { name: hook, type: webhook, url: "http://127.0.0.1:9/" }\nroutes:\n  - { events: ["deploy.*"], sinks: [hook] }\n`,
};

let dir: TempDir;
let server: NatsServer;
const agents = new Map<AgentRoleName, { proc: ManagedProcess; port: number }>();

/** The argv of a unit's ExecStart, with the installed paths mapped into the temp dir/checkout. */
function commandOf(role: AgentRoleName, unitName: string): { command: string; args: string[] } {
  const [bin, ...args] = execStart(readUnit(join(UNITS_DIR, unitName)));
  const config = args.indexOf("--config");
  if (bin === undefined || config < 0) throw new Error(`${unitName}: no bin or --config`);
  args[config + 1] = dir.file(`${role}.yaml`);
  repoBin(bin); // the unit names a bin this checkout has; it runs the built JS, so run its sources
  return { command: process.execPath, args: [...sourceArgs(BIN_KEYS[role]), ...args] };
}

async function startAgent(role: AgentRoleName, unitName: string, port: number): Promise<void> {
  writeFileSync(dir.file(`${role}.nats-pass`), `${TEST_USERS[role].pass}\n`, { mode: 0o600 });
  writeFileSync(
    dir.file(`${role}.yaml`),
    `role: ${role}
agent_id: ${role}-unit
nats:
  servers: ["${server.url}"]
  user: ${role}
  pass_file: ${dir.file(`${role}.nats-pass`)}
http: { host: 127.0.0.1, port: ${port} }
heartbeat_interval: 1s
${ROLE_CONFIG[role]}`,
  );
  const { command, args } = commandOf(role, unitName);
  const proc = await spawnProcess({ name: `bluegreen-${role}`, command, args, cwd: dir.path });
  agents.set(role, { proc, port });
  await waitFor(
    async () =>
      (await httpGet(`http://127.0.0.1:${port}/healthz`))?.status === 200 ? true : undefined,
    { what: `bluegreen-${role} to answer /healthz`, timeoutMs: WAIT_MS, process: proc },
  );
}

function cli(role: Role, args: string[]) {
  return runCommand(
    process.execPath,
    [
      ...sourceArgs("cli"),
      ...args,
      "--server",
      server.url,
      "--user",
      role,
      "--password",
      TEST_USERS[role].pass,
    ],
    { cwd: dir.path, timeoutMs: WAIT_MS },
  );
}

const violations = () =>
  (server.process?.output.text() ?? "").split("\n").filter((line) => /violation/i.test(line));

beforeAll(async () => {
  dir = await makeTempDir("ops-units");
  server = await startNats({ config: runnableConfig(dir), allowExternal: false });
  const ports = await freePorts(AGENT_UNITS.length);
  // The coordinator first: it creates the stream and the buckets; the others only look them up.
  const [first, ...rest] = AGENT_UNITS;
  await startAgent(first.role, first.unit, ports[0] as number);
  await Promise.all(rest.map((u, i) => startAgent(u.role, u.unit, ports[i + 1] as number)));
});

afterAll(async () => {
  await Promise.allSettled([...agents.values()].map(({ proc }) => proc.stop()));
  await server?.stop();
  await dir?.remove();
});

describe("the agents, started as their units start them", () => {
  it("are all up, and the operator sees their heartbeats with `bluegreen agents`", async () => {
    // Wait on the bucket itself (cheap), then ask once as the operator would.
    const nc = await connect({
      servers: [server.url],
      user: Role.operator,
      pass: TEST_USERS.operator.pass,
    });
    try {
      const kv = await nc.jetstream().views.kv(Buckets.agents, { bindOnly: true });
      await waitFor(
        async () => {
          const beats = await readHeartbeats(kv);
          return beats.filter((b) => isAlive(b, 3 * b.data.intervalMs)).length ===
            AGENT_UNITS.length
            ? true
            : undefined;
        },
        { what: "a live heartbeat from each agent", timeoutMs: WAIT_MS },
      );
    } finally {
      await nc.close();
    }
    const { code, stdout, stderr } = await cli(Role.operator, ["agents", "--json"]);
    expect(code, stderr).toBe(0);
    const rows = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { role: string; alive: boolean });
    expect(
      rows
        .filter((r) => r.alive)
        .map((r) => r.role)
        .sort(),
    ).toEqual(AGENT_UNITS.map((u) => u.role).sort());
  });

  it("each runs with the node flags its bin's shebang gives (the idle agents' memory settings)", () => {
    for (const [role, { proc }] of agents) {
      const unit = AGENT_UNITS.find((u) => u.role === role);
      if (unit === undefined) throw new Error(`no unit for ${role}`);
      const bin = repoBin(execStart(readUnit(join(UNITS_DIR, unit.unit)))[0] ?? "");
      const argv = readFileSync(`/proc/${proc.pid}/cmdline`, "utf8").split("\0");
      const flags = shebangNodeFlags(bin);
      expect(argv.slice(1, 1 + flags.length), role).toEqual(flags);
      if (role !== "coordinator") expect(flags, role).toContain("--max-semi-space-size=1");
      expect(flags, role).toContain("--no-turbofan");
    }
  });

  it("CI's `bluegreen deploy --wait` reaches the coordinator and gets its answer", async () => {
    // Nobody defined the service: the coordinator refuses the deploy (exit 3, docs/cli.md).
    const { code, stdout, stderr } = await cli(Role.ci, [
      "deploy",
      SERVICE,
      "v1.0",
      "--wait",
      "--timeout",
      "10s",
    ]);
    expect(code, `${stdout}\n${stderr}`).toBe(3);
    expect(stdout).toMatch(/deploy\.rejected .*BG_ERR_CONFIG_UNKNOWN_SERVICE/);
  });

  it("the operator applies a definition with `bluegreen apply`", async () => {
    const file = join(REPO_ROOT, "examples/emily/service.yaml");
    const { code, stdout, stderr } = await cli(Role.operator, ["apply", "-f", file]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
  });

  it("CI reads the audit trail with `bluegreen tail`", async () => {
    const { code, stdout, stderr } = await cli(Role.ci, ["tail", "--since", "10m", "--json"]);
    expect(code, stderr).toBe(0);
    const types = stdout
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { type: string }).type);
    expect(types).toEqual(
      expect.arrayContaining([
        "bluegreen.deploy.requested",
        "bluegreen.deploy.rejected",
        "bluegreen.config.applied",
      ]),
    );
  });

  it("nobody was refused anything", () => {
    expect(violations()).toEqual([]);
  });

  it("on SIGTERM, each agent shuts down cleanly (exit 0)", async () => {
    const exits = await Promise.all(
      [...agents.entries()].map(async ([role, { proc }]) => ({
        role,
        exit: await proc.stop({ signal: "SIGTERM", timeoutMs: WAIT_MS }),
      })),
    );
    for (const { role, exit } of exits) {
      expect({ role, code: exit.code, signal: exit.signal }).toEqual({
        role,
        code: 0,
        signal: null,
      });
    }
    // JSON logs on stdout, ending with the stopped transition (what journald gets). The pipe
    // may still hold the last lines when the exit is seen: read once they have arrived.
    for (const [, { proc }] of agents)
      await waitFor(() => (proc.output.text().includes('"to":"stopped"') ? true : undefined), {
        what: "the last log lines",
        timeoutMs: 3_000,
      }).catch(() => undefined);
    for (const [role, { proc }] of agents) {
      const last = proc.output
        .text()
        .trim()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { msg?: string; to?: string })
        .filter((r) => r.msg === "lifecycle transition")
        .at(-1);
      expect({ role, to: last?.to }).toEqual({ role, to: "stopped" });
    }
  });
});
