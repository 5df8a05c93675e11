// Given the units in deploy/systemd: when `systemd-analyze verify` reads each one (with its
// drop-ins), then it reports nothing; each unit starts its agent with one command and a config
// path, restarts on failure, stops on SIGTERM, and keeps its hardening (`systemd-analyze
// security --offline` scores it, lower is better).
//
// systemd is not running here, but `systemd-analyze verify` works on files. It checks that
// ExecStart is executable, so each unit is verified as a copy whose /usr/local/bin/… path (the
// installed symlink) points at the same bin in this checkout.

import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const NATS_DROP_IN = "deploy/nats/nats-server.service.d/bluegreen.conf";

import {
  Binaries,
  findBinary,
  makeTempDir,
  REPO_ROOT,
  runCommand,
  type TempDir,
} from "@bluegreen/testkit";
import {
  AGENT_UNITS,
  CONFIG_DIR,
  execStart,
  INSTALLED_BIN_DIR,
  readUnit,
  repoBin,
  setting,
  UNITS_DIR,
  unitFiles,
} from "./units.ts";

/** The exposure score (0 best … 10) each unit must stay at or under. */
const MAX_EXPOSURE: Record<string, number> = {
  "bluegreen-coordinator.service": 2.0,
  "bluegreen-monitor.service": 2.0,
  "bluegreen-node-agent.service": 2.5,
  "bluegreen-notifier.service": 2.0,
  // root, with a cut-down capability set: see the unit's header
  "bluegreen-switcher.service": 3.5,
  "bluegreen-dashboard.service": 2.0,
};

const DASHBOARD_UNIT = "bluegreen-dashboard.service";

let dir: TempDir;
let systemdAnalyze: string;

beforeAll(async () => {
  systemdAnalyze = findBinary({
    name: "systemd-analyze",
    debianPackage: "systemd",
    knownPaths: ["/usr/bin/systemd-analyze"],
  });
  dir = await makeTempDir("ops-systemd");
  // A copy of deploy/systemd whose ExecStart paths exist on this machine.
  cpSync(UNITS_DIR, dir.path, { recursive: true });
  for (const unit of [...AGENT_UNITS.map((u) => u.unit), DASHBOARD_UNIT]) {
    const path = dir.file(unit);
    const text = readFileSync(path, "utf8").replace(
      new RegExp(`${INSTALLED_BIN_DIR}/bluegreen(-[a-z-]+)?\\b`, "g"),
      (installed) => repoBin(installed),
    );
    writeFileSync(path, text);
  }
});

afterAll(async () => {
  await dir?.remove();
});

async function analyze(args: string[]) {
  const result = await runCommand(systemdAnalyze, args, { cwd: dir.path, timeoutMs: 20_000 });
  return { ...result, output: `${result.stdout}${result.stderr}`.trim() };
}

describe("systemd-analyze verify", () => {
  it("shipped a unit for each agent, and nothing unexpected", () => {
    expect(unitFiles()).toEqual(
      [
        ...AGENT_UNITS.map((u) => u.unit),
        DASHBOARD_UNIT,
        "bluegreen-node-agent.service.d/emily.conf",
      ].sort(),
    );
  });

  it.each([...AGENT_UNITS.map((u) => u.unit), DASHBOARD_UNIT])(
    "%s: no error, no warning",
    async (unit) => {
      const { code, output } = await analyze(["verify", `./${unit}`]);
      expect(output).toBe("");
      expect(code).toBe(0);
    },
  );

  it("would catch a mistake: a typo, a bad value, a missing binary", async () => {
    // The same check on a broken copy must complain, or the tests above prove nothing.
    const broken = join(dir.path, "broken");
    mkdirSync(broken);
    const text = readFileSync(dir.file("bluegreen-monitor.service"), "utf8")
      .replace("NoNewPrivileges=yes", "NoNewPrivilege=yes")
      .replace("ProtectHome=yes", "ProtectHome=maybe")
      .replace(/^ExecStart=\S+/m, "ExecStart=/nonexistent/bluegreen-monitor");
    writeFileSync(join(broken, "bluegreen-broken.service"), text);
    const { code, output } = await analyze(["verify", "./broken/bluegreen-broken.service"]);
    expect(output).toMatch(/Unknown key 'NoNewPrivilege'/);
    expect(output).toMatch(/protect home value.*maybe/i);
    expect(output).toMatch(/\/nonexistent\/bluegreen-monitor/);
    expect(code).not.toBe(0);
  });

  it("the nats-server drop-in (deploy/nats) fits Debian's nats-server.service", async () => {
    // The unit of Debian's nats-server package (2.9.10), which the drop-in overrides.
    const debian = join(dir.path, "nats");
    mkdirSync(join(debian, "nats-server.service.d"), { recursive: true });
    writeFileSync(
      join(debian, "nats-server.service"),
      [
        "[Unit]",
        "Description=NATS Server",
        "After=network.target ntp.service",
        "[Service]",
        "PrivateTmp=true",
        "Type=simple",
        `ExecStart=${findBinary(Binaries.natsServer)} -c /etc/nats-server.conf`,
        "ExecReload=/bin/kill -s HUP $MAINPID",
        "ExecStop=/bin/kill -s SIGINT $MAINPID",
        "User=nats",
        "Group=nats",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
      ].join("\n"),
    );
    const dropIn = readFileSync(join(REPO_ROOT, NATS_DROP_IN), "utf8").replace(
      "/usr/sbin/nats-server",
      findBinary(Binaries.natsServer),
    );
    writeFileSync(join(debian, "nats-server.service.d", "bluegreen.conf"), dropIn);
    const { code, output } = await analyze(["verify", "./nats/nats-server.service"]);
    expect(output).toBe("");
    expect(code).toBe(0);
    expect(dropIn).toMatch(/^ExecStart=\n^ExecStart=\S+ -c \/etc\/nats\/nats-server\.conf$/m);
  });

  it("reads the node agent's drop-in (a typo in it is reported too)", async () => {
    const dropIn = dir.file("bluegreen-node-agent.service.d", "zz-typo.conf");
    writeFileSync(dropIn, "[Service]\nReadWritePath=/srv\n");
    const { output } = await analyze(["verify", "./bluegreen-node-agent.service"]);
    expect(output).toMatch(/zz-typo\.conf.*Unknown key 'ReadWritePath'/);
  });
});

describe("what each unit promises", () => {
  it.each(AGENT_UNITS)(
    "$unit: one command with a config path, restart, SIGTERM, env file",
    ({ role, unit }) => {
      const u = readUnit(join(UNITS_DIR, unit));
      expect(execStart(u)).toEqual([
        `${INSTALLED_BIN_DIR}/bluegreen-${role}`,
        "--config",
        `${CONFIG_DIR}/${role}.yaml`,
      ]);
      expect(setting(u, "Service.Restart")).toBe("on-failure");
      expect(setting(u, "Service.KillSignal")).toBe("SIGTERM");
      expect(setting(u, "Service.TimeoutStopSec")).toMatch(/^\d+s$/);
      expect(setting(u, "Service.EnvironmentFile")).toBe(`-${CONFIG_DIR}/${role}.env`);
      expect(setting(u, "Service.NoNewPrivileges")).toBe("yes");
      expect(setting(u, "Service.ProtectSystem")).toBe("strict");
      expect(setting(u, "Service.PrivateTmp")).toBe("yes");
      expect(setting(u, "Install.WantedBy")).toBe("multi-user.target");
    },
  );

  it("only the switcher runs as root, with a cut-down capability set", () => {
    for (const { role, unit } of AGENT_UNITS) {
      const u = readUnit(join(UNITS_DIR, unit));
      if (role === "switcher") {
        expect(setting(u, "Service.User")).toBe("root");
        expect(setting(u, "Service.CapabilityBoundingSet")?.split(/\s+/).sort()).toEqual(
          ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_KILL"].sort(),
        );
      } else {
        expect(setting(u, "Service.User")).toBe("bluegreen");
        expect(setting(u, "Service.CapabilityBoundingSet")).toBe("");
      }
    }
  });

  it("writable paths only where an agent writes", () => {
    const writable = (unit: string) =>
      readUnit(join(UNITS_DIR, unit)).settings.get("Service.ReadWritePaths") ?? [];
    expect(writable("bluegreen-coordinator.service")).toEqual([]);
    expect(writable("bluegreen-monitor.service")).toEqual([]);
    expect(writable("bluegreen-node-agent.service")).toEqual([]);
    expect(writable("bluegreen-notifier.service")).toEqual([]);
    expect(writable("bluegreen-switcher.service")).toEqual([
      "/etc/nginx/bluegreen -/var/log/nginx -/var/lib/nginx",
    ]);
    expect(writable("bluegreen-node-agent.service.d/emily.conf")).toEqual([
      "/opt/emily-sovereign",
      "-/run/docker.sock",
    ]);
  });

  it("bluegreen-dashboard.service: the shared dashboard, read-only, on loopback behind its proxy", () => {
    const u = readUnit(join(UNITS_DIR, DASHBOARD_UNIT));
    expect(execStart(u)).toEqual([
      `${INSTALLED_BIN_DIR}/bluegreen`,
      "dashboard",
      "--shared",
      "--listen",
      "127.0.0.1:3100",
      "--auth-header",
      "X-Forwarded-User",
    ]);
    expect(setting(u, "Service.User")).toBe("bluegreen");
    expect(setting(u, "Service.CapabilityBoundingSet")).toBe("");
    expect(setting(u, "Service.EnvironmentFile")).toBe(`-${CONFIG_DIR}/dashboard.env`);
    expect(u.settings.get("Service.ReadWritePaths") ?? []).toEqual([]);
  });

  it.each([...AGENT_UNITS.map((u) => u.unit), DASHBOARD_UNIT])(
    "%s: hardening score",
    async (unit) => {
      const limit = MAX_EXPOSURE[unit] as number;
      const { code, output } = await analyze([
        "security",
        "--offline=yes",
        `--threshold=${Math.round(limit * 10)}`,
        `./${unit}`,
      ]);
      const score = /Overall exposure level for \S+: ([\d.]+)/.exec(output)?.[1];
      expect(Number(score), output.split("\n").slice(-3).join("\n")).toBeLessThanOrEqual(limit);
      expect(code).toBe(0);
    },
  );
});
