// The systemd units in deploy/systemd, read the way the tests need them: their settings, and
// their ExecStart turned into a command that runs from this checkout (the units name the
// installed symlinks under /usr/local/bin, see docs/operations.md).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@bluegreen/testkit";

export const UNITS_DIR = join(REPO_ROOT, "deploy/systemd");
export const INSTALLED_BIN_DIR = "/usr/local/bin";
export const CONFIG_DIR = "/etc/bluegreen";

/** Each agent role, its unit, and where its bin lives in this repo. */
export const AGENT_UNITS = [
  { role: "coordinator", unit: "bluegreen-coordinator.service", pkg: "coordinator" },
  { role: "switcher", unit: "bluegreen-switcher.service", pkg: "switcher" },
  { role: "node-agent", unit: "bluegreen-node-agent.service", pkg: "node-agent" },
  { role: "monitor", unit: "bluegreen-monitor.service", pkg: "monitor" },
  { role: "notifier", unit: "bluegreen-notifier.service", pkg: "notifier" },
] as const;
export type AgentRoleName = (typeof AGENT_UNITS)[number]["role"];

export interface UnitFile {
  readonly path: string;
  readonly text: string;
  /** `Section.Key` → every value given, in order (systemd keys may repeat). */
  readonly settings: ReadonlyMap<string, readonly string[]>;
}

export function readUnit(path: string): UnitFile {
  const text = readFileSync(path, "utf8");
  const settings = new Map<string, string[]>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] as string;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = `${section}.${line.slice(0, eq).trim()}`;
    settings.set(key, [...(settings.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return { path, text, settings };
}

/** The last value of a setting (the one systemd uses for single-valued keys). */
export function setting(unit: UnitFile, key: string): string | undefined {
  return unit.settings.get(key)?.at(-1);
}

/** Every unit file and drop-in under deploy/systemd, relative paths. */
export function unitFiles(): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(UNITS_DIR, { withFileTypes: true })) {
    if (entry.isFile()) out.push(entry.name);
    else if (entry.isDirectory() && entry.name.endsWith(".d")) {
      for (const file of readdirSync(join(UNITS_DIR, entry.name))) {
        if (file.endsWith(".conf")) out.push(`${entry.name}/${file}`);
      }
    }
  }
  return out.sort();
}

/** Where an installed bin (`/usr/local/bin/bluegreen-switcher`) lives in this checkout. */
export function repoBin(installed: string): string {
  const name = installed.slice(`${INSTALLED_BIN_DIR}/`.length);
  const unit = AGENT_UNITS.find((u) => `bluegreen-${u.role}` === name);
  const pkg = unit?.pkg ?? (name === "bluegreen" ? "cli" : undefined);
  if (!installed.startsWith(`${INSTALLED_BIN_DIR}/`) || pkg === undefined) {
    throw new Error(`${installed}: not a bluegreen bin under ${INSTALLED_BIN_DIR}`);
  }
  const path = join(REPO_ROOT, "packages", pkg, "bin", `${name}.js`);
  if (!existsSync(path)) throw new Error(`${installed}: ${path} does not exist in this checkout`);
  return path;
}

/** A unit's ExecStart as argv (no quoting is used in our units: split on spaces). */
export function execStart(unit: UnitFile): string[] {
  const line = setting(unit, "Service.ExecStart");
  if (line === undefined) throw new Error(`${unit.path}: no ExecStart`);
  return line.split(/\s+/);
}
