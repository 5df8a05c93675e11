// Given nix/module.nix and flake.nix (nixpkgs is not reachable here, see docs/install.md): they
// parse (`nix-instantiate --parse`), and the module evaluated with all four agents enabled
// against a stand-in for the module system (nix/stand-in.nix) gives one unit per agent that
// runs `bluegreen agent <role>` with its settings rendered to a config `bluegreen config check`
// accepts, the NATS password as a systemd credential, and the same hardening as the unit in
// deploy/systemd; the system user; the nginx include directory.

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
  systemd: { services: Record<string, Service>; tmpfiles?: { rules: string[] } };
  users: { users: Record<string, { isSystemUser: boolean; group: string }> };
}

const ROLES = ["coordinator", "switcher", "node-agent", "monitor"] as const;
let nixInstantiate: string;
let evaluated: Evaluated;

beforeAll(async () => {
  nixInstantiate = await findBinary({
    name: "nix-instantiate",
    debianPackage: "nix-bin",
    knownPaths: ["/usr/bin/nix-instantiate"],
  });
  const result = await runCommand(
    nixInstantiate,
    [
      "--read-write-mode", // pkgs.formats.yaml's stand-in writes the config into the store
      "--eval",
      "--strict",
      "--json",
      "-E",
      "import ./tests/release/nix/stand-in.nix { userConfig = import ./tests/release/nix/example.nix; }",
    ],
    { cwd: REPO_ROOT, timeoutMs: 30_000 },
  );
  expect(result.code, result.stderr).toBe(0);
  evaluated = JSON.parse(result.stdout) as Evaluated;
}, 40_000);

/** A systemd setting as the tokens it stands for (`yes`/`no` for booleans, lists split). */
function tokens(value: string | boolean | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  if (typeof value === "boolean") return [value ? "yes" : "no"];
  return (typeof value === "string" ? [value] : [...value]).flatMap((v) =>
    v.split(/\s+/).filter((t) => t !== ""),
  );
}

describe("nix/module.nix and flake.nix", () => {
  it.each(["nix/module.nix", "nix/package.nix", "flake.nix"])("%s parses", async (file) => {
    const result = await runCommand(nixInstantiate, ["--parse", file], { cwd: REPO_ROOT });
    expect(result.code, result.stderr).toBe(0);
  });

  it("gives one unit per enabled agent, running `bluegreen agent <role>`", () => {
    expect(Object.keys(evaluated.systemd.services).sort()).toEqual(
      ROLES.map((r) => `bluegreen-${r}`).sort(),
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

  it.each(ROLES)("%s: the hardening of deploy/systemd's unit, setting by setting", (role) => {
    const unit = readUnit(join(UNITS_DIR, `bluegreen-${role}.service`));
    const nix = (evaluated.systemd.services[`bluegreen-${role}`] as Service).serviceConfig;
    const skipped = new Set(["ExecStart", "EnvironmentFile"]);
    for (const [key, values] of unit.settings) {
      const [section, name] = key.split(".") as [string, string];
      if (section !== "Service" || skipped.has(name)) continue;
      expect(tokens(nix[name]), `${role}: ${name}`).toEqual(tokens(values));
    }
  });

  it("makes the bluegreen system user, and the switcher's nginx include directory", () => {
    expect(evaluated.users.users.bluegreen).toMatchObject({
      isSystemUser: true,
      group: "bluegreen",
    });
    expect(evaluated.systemd.tmpfiles?.rules).toEqual(["d /etc/nginx/bluegreen 0755 root root -"]);
  });
});
