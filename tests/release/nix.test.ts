// Given nix/module.nix and flake.nix (nixpkgs is not reachable here, see docs/install.md): they
// parse (`nix-instantiate --parse`), and the module evaluated with all five agents and the
// dashboard enabled against a stand-in for the module system (nix/stand-in.nix) gives one unit
// per agent that runs `bluegreen agent <role>` with its settings rendered to a config
// `bluegreen config check` accepts, the NATS password and other secret files as systemd
// credentials, and the same hardening and environment as the unit in deploy/systemd; the
// dashboard's unit as deploy/systemd's; the system user; the nginx include directory.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findBinary, REPO_ROOT, runCommand, sourceArgs } from "@bluegreen/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { readUnit, UNITS_DIR } from "../ops/units.ts";

interface Service {
  after: string[];
  wantedBy: string[];
  serviceConfig: Record<string, string | boolean | string[]>;
}
interface Evaluated {
  assertions: { assertion: boolean; message: string }[];
  systemd: { services: Record<string, Service>; tmpfiles?: { rules: string[] } };
  users: { users: Record<string, { isSystemUser: boolean; group: string }> };
}

const ROLES = ["coordinator", "switcher", "node-agent", "monitor", "notifier"] as const;
let nixInstantiate: string;
let evaluated: Evaluated;

/** The module's config for `userConfig` (a Nix expression), evaluated against the stand-in. */
async function evaluate(userConfig: string): Promise<Evaluated> {
  const result = await runCommand(
    nixInstantiate,
    [
      "--read-write-mode", // pkgs.formats.yaml's stand-in writes the config into the store
      "--eval",
      "--strict",
      "--json",
      "-E",
      `import ./tests/release/nix/stand-in.nix { userConfig = ${userConfig}; }`,
    ],
    { cwd: REPO_ROOT, timeoutMs: 30_000 },
  );
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Evaluated;
}

beforeAll(async () => {
  nixInstantiate = await findBinary({
    name: "nix-instantiate",
    debianPackage: "nix-bin",
    knownPaths: ["/usr/bin/nix-instantiate"],
  });
  evaluated = await evaluate("import ./tests/release/nix/example.nix");
}, 40_000);

/**
 * A systemd setting as the tokens it stands for (`yes`/`no` for booleans, lists split, a
 * value's double quotes dropped: NixOS quotes each Environment entry itself).
 */
function tokens(value: string | boolean | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  if (typeof value === "boolean") return [value ? "yes" : "no"];
  return (typeof value === "string" ? [value] : [...value]).flatMap((v) =>
    v
      .replace(/^"(.*)"$/, "$1")
      .split(/\s+/)
      .filter((t) => t !== ""),
  );
}

/** Each setting of deploy/systemd's unit (but `skipped`) against the module's serviceConfig. */
function expectSameSettings(unitName: string, skipped: ReadonlySet<string>): void {
  const unit = readUnit(join(UNITS_DIR, `${unitName}.service`));
  const nix = (evaluated.systemd.services[unitName] as Service).serviceConfig;
  for (const [key, values] of unit.settings) {
    const [section, name] = key.split(".") as [string, string];
    if (section !== "Service" || skipped.has(name)) continue;
    expect(tokens(nix[name]), `${unitName}: ${name}`).toEqual(tokens(values));
  }
}

describe("nix/module.nix and flake.nix", () => {
  it.each(["nix/module.nix", "nix/package.nix", "flake.nix"])("%s parses", async (file) => {
    const result = await runCommand(nixInstantiate, ["--parse", file], { cwd: REPO_ROOT });
    expect(result.code, result.stderr).toBe(0);
  });

  it("gives one unit per enabled agent, running `bluegreen agent <role>`", () => {
    expect(Object.keys(evaluated.systemd.services).sort()).toEqual(
      [...ROLES, "dashboard"].map((r) => `bluegreen-${r}`).sort(),
    );
    for (const role of ROLES) {
      const service = evaluated.systemd.services[`bluegreen-${role}`] as Service;
      expect(service.serviceConfig.ExecStart).toMatch(
        new RegExp(
          `^/nix/store/\\S+/bin/bluegreen agent ${role} --config /nix/store/\\S+-bluegreen-${role}\\.yaml$`,
        ),
      );
      expect(service.wantedBy).toEqual(["multi-user.target"]);
      expect(service.after).toContain("nats-server.service");
    }
  });

  it.each(ROLES)(
    "%s: the settings render to a config `bluegreen config check` accepts",
    async (role) => {
      const exec = String(evaluated.systemd.services[`bluegreen-${role}`]?.serviceConfig.ExecStart);
      const file = exec.split(" ").at(-1) as string;
      const config = JSON.parse(readFileSync(file, "utf8")) as { role: string };
      expect(config.role).toBe(role);
      const checked = await runCommand(
        process.execPath,
        [...sourceArgs("cli"), "config", "check", file],
        {
          cwd: REPO_ROOT,
          timeoutMs: 30_000,
        },
      );
      expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    },
  );

  it("the NATS password file becomes a credential, and the config's pass_file names it", () => {
    const service = evaluated.systemd.services["bluegreen-coordinator"] as Service;
    expect(service.serviceConfig.LoadCredential).toEqual([
      "nats-password:/run/secrets/coordinator-nats",
    ]);
    const file = String(service.serviceConfig.ExecStart).split(" ").at(-1) as string;
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({
      nats: {
        user: "coordinator",
        pass_file: "/run/credentials/bluegreen-coordinator.service/nats-password",
      },
    });
    expect(evaluated.systemd.services["bluegreen-monitor"]?.serviceConfig.LoadCredential).toEqual(
      [],
    );
  });

  it.each(ROLES)(
    "%s: the hardening and environment of deploy/systemd's unit, setting by setting",
    (role) => {
      expectSameSettings(`bluegreen-${role}`, new Set(["ExecStart", "EnvironmentFile"]));
    },
  );

  it("the notifier: secret files become credentials, and its environment file is read", () => {
    const service = evaluated.systemd.services["bluegreen-notifier"] as Service;
    expect(service.serviceConfig.LoadCredential).toEqual([
      "nats-password:/run/secrets/notifier-nats",
      "ops-hook.key:/run/secrets/ops-hook.key",
    ]);
    expect(service.serviceConfig.EnvironmentFile).toBe("/run/secrets/notifier.env");
    expect(evaluated.systemd.services["bluegreen-monitor"]?.serviceConfig).not.toHaveProperty(
      "EnvironmentFile",
    );
  });

  it("the dashboard: `bluegreen dashboard --shared` as deploy/systemd's unit, NATS from the environment", () => {
    const service = evaluated.systemd.services["bluegreen-dashboard"] as Service;
    expect(service.serviceConfig.ExecStart).toMatch(
      /^\/nix\/store\/\S+\/bin\/bluegreen dashboard --shared --listen 127\.0\.0\.1:3100 --auth-header X-Forwarded-User$/,
    );
    expect(service.wantedBy).toEqual(["multi-user.target"]);
    expect(service.after).toContain("nats-server.service");
    expect(service.serviceConfig.Environment).toEqual([
      "NATS_URL=nats://10.0.0.5:4222",
      "NATS_USER=dashboard",
    ]);
    expect(service.serviceConfig.EnvironmentFile).toBe("/run/secrets/dashboard.env");
    expectSameSettings("bluegreen-dashboard", new Set(["ExecStart", "EnvironmentFile"]));
  });

  it("refuses a credential named like one the module loads itself (NixOS assertions)", async () => {
    expect(evaluated.assertions.filter((a) => !a.assertion)).toEqual([]);
    // The coordinator has a natsPasswordFile, the monitor none (its name is free then); the
    // dashboard loads nats-creds once it has a credsFile.
    const clashing = await evaluate(`
      let ex = import ./tests/release/nix/example.nix; b = ex.services.bluegreen; in
      { services.bluegreen = b // {
          coordinator = b.coordinator // { credentials = { "nats-password" = "/run/secrets/mine"; }; };
          monitor = b.monitor // { credentials = { "nats-password" = "/run/secrets/mine"; }; };
          dashboard = b.dashboard // {
            nats = b.dashboard.nats // { credsFile = "/run/secrets/dashboard.creds"; };
            credentials = { "nats-creds" = "/run/secrets/mine"; };
          };
        }; }`);
    expect(clashing.assertions.filter((a) => !a.assertion).map((a) => a.message)).toEqual([
      'services.bluegreen.coordinator.credentials."nats-password": the module loads a credential of that name itself; give yours another name.',
      'services.bluegreen.dashboard.credentials."nats-creds": the module loads a credential of that name itself; give yours another name.',
    ]);
  });

  it("makes the bluegreen system user, and the switcher's nginx include directory", () => {
    expect(evaluated.users.users.bluegreen).toMatchObject({
      isSystemUser: true,
      group: "bluegreen",
    });
    expect(evaluated.systemd.tmpfiles?.rules).toEqual(["d /etc/nginx/bluegreen 0755 root root -"]);
  });
});
