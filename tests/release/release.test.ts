// Given `npm run release` (the build, the single executable, the .deb, the tarball, the npm
// tarballs), built once for this file: lintian finds nothing unexplained; the .deb installs
// with dpkg -i, its units pass `systemd-analyze verify`, the executable runs from its
// installed path (`--version`, `config check` on the example configs), nothing is started,
// and a purge leaves nothing behind; the npm tarballs install and run in an empty directory;
// the bins run the built JS with plain node; and the full flow (a deploy, then a rollback)
// runs with every agent and the CLI started from the single executable.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  BINS,
  freePort,
  makeTempDir,
  nextEvent,
  REPO_ROOT,
  runCommand,
  spawnProcess,
  type TempDir,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eStack, setFaults, startE2eStack } from "../e2e/stack.ts";

const VERSION = (
  JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    version: string;
  }
).version;
const RELEASE = join(REPO_ROOT, "dist/release");
const EXECUTABLE = join(REPO_ROOT, "dist/bluegreen");
const DEB = join(RELEASE, `bluegreen_${VERSION}_amd64.deb`);
const TARBALL = join(RELEASE, `bluegreen-${VERSION}-linux-x64.tar.gz`);
const ROLES = ["coordinator", "switcher", "node-agent", "monitor", "notifier"] as const;
const IS_ROOT = process.getuid?.() === 0;

const run = (command: string, args: readonly string[], cwd = REPO_ROOT, timeoutMs = 60_000) =>
  runCommand(command, args, { cwd, timeoutMs });

let tmp: TempDir;

/** Runs a bash script with these `NAME=value` variables added to the environment. */
const runScript = (env: readonly string[], script: string) =>
  run("env", [...env, "bash", script], REPO_ROOT, 90_000);

beforeAll(async () => {
  tmp = await makeTempDir("release");
  const built = await run("npm", ["run", "--silent", "release"], REPO_ROOT, 400_000);
  expect(built.code, built.stdout + built.stderr).toBe(0);
}, 420_000);

afterAll(async () => {
  await tmp?.remove();
});

describe("npm run release", () => {
  it("writes the executable, the .deb, the tarball and the npm tarballs", () => {
    for (const file of [
      EXECUTABLE,
      DEB,
      TARBALL,
      join(RELEASE, `bluegreen-cli-${VERSION}.tgz`),
      join(RELEASE, `bluegreen-contracts-${VERSION}.tgz`),
    ])
      expect(statSync(file).size, file).toBeGreaterThan(1_000);
  });

  it("the executable is multi-call: --version, the CLI, `agent <role>`", async () => {
    expect((await run(EXECUTABLE, ["--version"])).stdout).toBe(`bluegreen ${VERSION}\n`);
    const help = await run(EXECUTABLE, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: bluegreen <command>");
    for (const role of ROLES) {
      const agent = await run(EXECUTABLE, ["agent", role, "--help"]);
      expect(agent.code, role).toBe(0);
      expect(agent.stdout, role).toContain(`usage: bluegreen agent ${role} --config PATH`);
    }
    const unknown = await run(EXECUTABLE, ["agent", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown role 'nope'");
  });

  it("lintian: no tag but the two explained in the package's overrides", async () => {
    const result = await run("lintian", ["--fail-on", "error,warning", DEB]);
    expect(result.stdout + result.stderr).not.toMatch(/^[EW]: /m);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it("the tarball holds the executable, the agents' and the dashboard's units and the example configs", () => {
    const listed = execFileSync("tar", ["-tzf", TARBALL], { encoding: "utf8" }).split("\n");
    const dir = `bluegreen-${VERSION}-linux-x64/`;
    expect(listed).toEqual(
      expect.arrayContaining([
        `${dir}bluegreen`,
        ...ROLES.map((r) => `${dir}systemd/bluegreen-${r}.service`),
        `${dir}systemd/bluegreen-dashboard.service`,
        ...ROLES.map((r) => `${dir}examples/${r}.yaml.example`),
        `${dir}INSTALL.md`,
      ]),
    );
  });

  it("the bins run the built JavaScript with plain node (no tsx)", async () => {
    for (const bin of Object.values(BINS)) {
      const text = readFileSync(bin, "utf8");
      expect(text, bin).not.toContain("tsx");
      const result = await run(process.execPath, [bin, "--help"]);
      expect(result.code, `${bin}: ${result.stderr}`).toBe(0);
    }
  });
});

describe("the npm tarballs, in an empty directory", () => {
  /** `npm install <the tarball>` in a new empty directory; resolves with the directory. */
  async function installIn(name: string, tarball: string, offline: boolean): Promise<string> {
    const dir = tmp.file(name);
    mkdirSync(dir);
    const flags = [offline ? "--offline" : "--prefer-offline", "--no-audit", "--no-fund"];
    const installed = await run("npm", ["install", ...flags, join(RELEASE, tarball)], dir);
    expect(installed.code, installed.stderr).toBe(0);
    return dir;
  }

  it("@bluegreen/cli installs (no dependency at all) and runs: npx bluegreen --version", async () => {
    const dir = await installIn("npm-cli", `bluegreen-cli-${VERSION}.tgz`, true);
    const version = await run("npx", ["--offline", "bluegreen", "--version"], dir);
    expect(version.stdout.trim()).toBe(`bluegreen ${VERSION}`);
  });

  it("@bluegreen/contracts installs and imports: parseEvent, the schemas, the types", async () => {
    // zod and yaml come from npm's cache when it has them (the registry otherwise)
    const dir = await installIn("npm-contracts", `bluegreen-contracts-${VERSION}.tgz`, false);
    expect(existsSync(join(dir, "node_modules/@bluegreen/contracts/dist/index.d.ts"))).toBe(true);
    const used = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { parseEvent, compileServiceDefinition } from "@bluegreen/contracts";
         console.log(typeof parseEvent, typeof compileServiceDefinition, parseEvent("{}").ok);`,
      ],
      dir,
    );
    expect(used.stdout.trim(), used.stderr).toBe("function function false");
  });
});

describe.skipIf(!IS_ROOT)("the .deb on this machine (dpkg -i, then purge)", () => {
  const unitPath = (role: string) => `/lib/systemd/system/bluegreen-${role}.service`;
  let files: string[] = [];

  beforeAll(async () => {
    await run("dpkg", ["--purge", "bluegreen"]);
    const installed = await run("dpkg", ["-i", DEB], REPO_ROOT, 120_000);
    expect(installed.code, installed.stdout + installed.stderr).toBe(0);
    files = (await run("dpkg", ["-L", "bluegreen"])).stdout.split("\n").filter((f) => f !== "");
  }, 150_000);

  afterAll(async () => {
    await run("dpkg", ["--purge", "bluegreen"]);
  });

  it("installs the executable, the agents' and the dashboard's units, the examples and the nginx include directory", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "/usr/bin/bluegreen",
        ...ROLES.map(unitPath),
        unitPath("dashboard"),
        ...ROLES.map((r) => `/etc/bluegreen/${r}.yaml.example`),
        "/etc/nginx/bluegreen",
      ]),
    );
    expect(statSync("/etc/nginx/bluegreen").isDirectory()).toBe(true);
  });

  it("made the bluegreen system user, and started or enabled nothing", async () => {
    const user = await run("getent", ["passwd", "bluegreen"]);
    expect(user.stdout).toMatch(
      /^bluegreen:x:\d{1,3}:\d+:bluegreen agents[^:]*:\/var\/lib\/bluegreen:/,
    );
    const wants = "/etc/systemd/system/multi-user.target.wants";
    const enabled = existsSync(wants)
      ? readdirSync(wants).filter((f) => f.startsWith("bluegreen"))
      : [];
    expect(enabled).toEqual([]);
    const running = (await run("pgrep", ["-f", "^/usr/bin/bluegreen"])).stdout.trim();
    expect(running).toBe("");
  });

  it.each(ROLES)("systemd-analyze verify bluegreen-%s.service: nothing to report", async (role) => {
    const result = await run("systemd-analyze", ["verify", unitPath(role)]);
    expect(`${result.stdout}${result.stderr}`.trim()).toBe("");
    expect(result.code).toBe(0);
    expect(readFileSync(unitPath(role), "utf8")).toMatch(
      new RegExp(
        `^ExecStart=/usr/bin/bluegreen agent ${role} --config /etc/bluegreen/${role}.yaml$`,
        "m",
      ),
    );
  });

  it("systemd-analyze verify bluegreen-dashboard.service: nothing to report", async () => {
    const result = await run("systemd-analyze", ["verify", unitPath("dashboard")]);
    expect(`${result.stdout}${result.stderr}`.trim()).toBe("");
    expect(result.code).toBe(0);
    expect(readFileSync(unitPath("dashboard"), "utf8")).toMatch(
      /^ExecStart=\/usr\/bin\/bluegreen dashboard --shared /m,
    );
  });

  it("runs from its installed path: --version, config check on every example", async () => {
    expect((await run("/usr/bin/bluegreen", ["--version"])).stdout).toBe(`bluegreen ${VERSION}\n`);
    for (const role of ROLES) {
      const checked = await run("/usr/bin/bluegreen", [
        "config",
        "check",
        `/etc/bluegreen/${role}.yaml.example`,
      ]);
      expect(checked.code, `${role}: ${checked.stdout}${checked.stderr}`).toBe(0);
    }
  });

  it("purge leaves nothing behind: files, /etc/bluegreen, /var/lib/bluegreen, the user", async () => {
    const purged = await run("dpkg", ["--purge", "bluegreen"]);
    expect(purged.code, purged.stderr).toBe(0);
    for (const file of files) {
      if (file === "/." || ["/etc", "/usr", "/lib", "/usr/bin"].includes(file)) continue;
      if (!file.includes("bluegreen")) continue; // shared directories (/usr/share/man/man1…)
      expect(existsSync(file), file).toBe(false);
    }
    expect(existsSync("/etc/bluegreen")).toBe(false);
    expect(existsSync("/var/lib/bluegreen")).toBe(false);
    expect((await run("getent", ["passwd", "bluegreen"])).code).not.toBe(0);
    expect((await run("getent", ["group", "bluegreen"])).code).not.toBe(0);
    expect((await run("dpkg-query", ["-W", "bluegreen"])).code).not.toBe(0);
  });
});

describe("the full flow with every agent and the CLI from the single executable", () => {
  let stack: E2eStack;
  beforeAll(async () => {
    stack = await startE2eStack({ window: "3s", executable: EXECUTABLE });
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it("the agents are the executable, and `bluegreen agents` shows their version", async () => {
    for (const agent of stack.base.agents) {
      const argv = readFileSync(`/proc/${agent.process.pid}/cmdline`, "utf8").split("\0");
      expect(argv[0], agent.name).toBe(EXECUTABLE);
      expect(argv[1], agent.name).toBe("agent");
    }
    const agents = await stack.cli(["agents"]);
    expect(agents.code, agents.stderr).toBe(0);
    expect(agents.lines[0]).toMatch(/^ROLE\s+AGENT\s+VERSION\s+HOST/);
    const versions = agents.lines.slice(1).map((l) => l.split(/\s+/)[2]);
    expect(versions.length).toBeGreaterThanOrEqual(5);
    expect(new Set(versions)).toEqual(new Set([VERSION]));
  });

  it("`bluegreen dashboard` from the executable serves the page and its embedded assets", async () => {
    const port = await freePort();
    const proc = await spawnProcess({
      name: "dashboard",
      command: EXECUTABLE,
      args: ["dashboard", "--listen", `127.0.0.1:${port}`, "--read-only"].concat([
        "--server",
        stack.base.natsUrls.join(","),
      ]),
      cwd: tmp.path,
    });
    try {
      await proc.waitForLine(/dashboard listening on/, {
        what: "the dashboard to listen",
        timeoutMs: 30_000,
      });
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("/assets/app.js");
      for (const name of ["app.js", "app.css"]) {
        const asset = await fetch(`http://127.0.0.1:${port}/assets/${name}`);
        expect(asset.status, name).toBe(200);
        const built = readFileSync(join(REPO_ROOT, "packages/dashboard/dist/assets", name));
        expect(Buffer.from(await asset.arrayBuffer()).equals(built), name).toBe(true);
      }
    } finally {
      await proc.stop();
    }
  }, 60_000);

  it("CI's deploy script (the Action's, the GitLab component's): deploy v1.1, exit 0, outputs, timeline", async () => {
    expect(await stack.served()).toMatchObject({ color: "blue", version: "v1.0" });
    const outputs = tmp.file("github-output");
    const summary = tmp.file("step-summary.md");
    const result = await runScript(
      [
        `BG=${EXECUTABLE}`,
        `SERVICE=${stack.service}`,
        "VERSION=v1.1",
        "TIMEOUT=50s",
        `NATS_URL=${stack.base.natsUrls.join(",")}`,
        "GITHUB_RUN_ID=4242",
        "GITHUB_RUN_ATTEMPT=1",
        `GITHUB_OUTPUT=${outputs}`,
        `GITHUB_STEP_SUMMARY=${summary}`,
      ],
      join(REPO_ROOT, "ci/deploy.sh"),
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(readFileSync(outputs, "utf8")).toBe("deployment-id=gh-4242-1\noutcome=succeeded\n");
    const timeline = readFileSync(summary, "utf8");
    expect(timeline).toContain(`### bluegreen deploy ${stack.service} v1.1: succeeded`);
    expect(timeline).toMatch(/deploy\.started[\s\S]*switch\.done[\s\S]*deploy\.succeeded/);
    expect(await stack.served()).toMatchObject({ status: 200, color: "green", version: "v1.1" });
  }, 90_000);

  it("errors after the next switch: rolled back, exit 5, nginx serves green v1.1 again", async () => {
    const deploying = stack.cli(["deploy", stack.service, "v1.2", "--wait", "--timeout", "50s"]);
    await nextEvent(
      stack.base.nc,
      stack.service,
      (e) =>
        e.type === "bluegreen.monitor.started" && (e.data as { color: string }).color === "blue",
      "monitor.started on blue",
      40_000,
    );
    await setFaults(stack.base.apps.blue, { errorRate: 1 });
    const result = await deploying;
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(await stack.served()).toMatchObject({ color: "green", version: "v1.1" });
    await setFaults(stack.base.apps.blue, { errorRate: 0 });
  }, 90_000);
});
