// `npm run bench -- footprint [--runs N]`: what installing bluegreen costs a host.
//
//   cli_start:      `bluegreen --version` from the single executable (dist/bluegreen), N runs
//   cli_start_tsx:  the same from the sources through tsx (how the CLI ran before the build),
//                   N runs, interleaved with the above so both see the same machine load
//   agent_rss_mb:   each agent from the executable (`bluegreen agent <role>`, as the units run
//                   it, with the Environment= the packaged unit gives it), connected to a local
//                   nats-server, idle for 10 s after it is ready: VmRSS from /proc. The
//                   executable's pages are dropped from the page cache before each agent starts
//                   (as on a host after a boot): a file just written by the build (or by dpkg)
//                   sits whole in the cache, and the agent would map ~10 MB more of it than it
//                   reads (docs/install.md, "Footprint")
//   executable_mb, deb_mb: the sizes of dist/bluegreen and the .deb
//
// Builds the release first when dist/ lacks it (`npm run release`). Ends with one JSON line:
// {"bench":"footprint","cli_start_p50_ms":…,"cli_start_tsx_p50_ms":…,"agent_rss_mb":{…},
//  "executable_mb":…,"deb_mb":…}

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type AgentBin,
  type AgentProcess,
  agentConfig,
  coordinatorConfig,
  makeTempDir,
  REPO_ROOT,
  sourceArgs,
  startAgent,
  startNats,
} from "@bluegreen/testkit";
import { packagedUnit } from "../scripts/release/deb.ts";

const IDLE_MS = Number(process.env.BLUEGREEN_BENCH_IDLE_MS ?? 10_000);
const EXECUTABLE = join(REPO_ROOT, "dist/bluegreen");
const VERSION = (
  JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    version: string;
  }
).version;
const DEB = join(REPO_ROOT, `dist/release/bluegreen_${VERSION}_amd64.deb`);

const mb = (bytes: number) => Math.round((bytes / 1e6) * 10) / 10;
const p50 = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.round((sorted[Math.floor((sorted.length - 1) / 2)] ?? 0) * 10) / 10;
};

/** How long `command args` takes to exit, in ms; throws unless it prints the version. */
function timed(command: string, args: readonly string[]): number {
  const start = performance.now();
  const result = spawnSync(command, [...args], { encoding: "utf8" });
  const ms = performance.now() - start;
  if (result.status !== 0 || !result.stdout.includes(VERSION))
    throw new Error(`${command} ${args.join(" ")}: exit ${result.status}: ${result.stderr}`);
  return ms;
}

/**
 * The environment a unit's `Environment=` lines give (systemd's syntax: space-separated
 * assignments, each possibly in double quotes).
 */
export function unitEnvironment(unit: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, value] of unit.matchAll(/^Environment=(.*)$/gm)) {
    for (const [, quoted, bare] of (value ?? "").matchAll(/"([^"]*)"|(\S+)/g)) {
      const assignment = quoted ?? bare ?? "";
      const eq = assignment.indexOf("=");
      if (eq > 0) env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
    }
  }
  return env;
}

/** Drops the file's pages from the page cache (written back first), as a reboot would. */
function dropFromPageCache(path: string): void {
  execFileSync("sync", [path]);
  execFileSync("dd", [`if=${path}`, "iflag=nocache", "count=0", "status=none"]);
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

export default async function footprint(args: string[]): Promise<void> {
  const runsAt = args.indexOf("--runs");
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 20;
  // `--agent-node-options "<flags>"`: NODE_OPTIONS for the agents instead of their units' (to
  // compare V8 settings)
  const optionsAt = args.indexOf("--agent-node-options");
  const nodeOptions = optionsAt >= 0 ? { NODE_OPTIONS: args[optionsAt + 1] ?? "" } : {};
  if (!existsSync(EXECUTABLE) || !existsSync(DEB)) {
    console.log("building the release (npm run release)…");
    execFileSync("npm", ["run", "--silent", "release"], { cwd: REPO_ROOT, stdio: "inherit" });
  }

  const exe: number[] = [];
  const tsx: number[] = [];
  timed(EXECUTABLE, ["--version"]); // warm the page cache for both
  timed(process.execPath, [...sourceArgs("cli"), "--version"]);
  for (let i = 0; i < runs; i++) {
    exe.push(timed(EXECUTABLE, ["--version"]));
    tsx.push(timed(process.execPath, [...sourceArgs("cli"), "--version"]));
  }
  console.log(`cli start, executable: p50 ${p50(exe)} ms (min ${Math.round(Math.min(...exe))})`);
  console.log(`cli start, tsx:        p50 ${p50(tsx)} ms (min ${Math.round(Math.min(...tsx))})`);

  const nats = await startNats({ jetstream: true, allowExternal: false });
  const tmp = await makeTempDir("bench-footprint");
  const agents: [string, AgentBin, Record<string, unknown>][] = [
    [
      "node-agent",
      "nodeAgent",
      agentConfig("node-agent", "fp-node-agent", nats.url, {
        serves: [{ service: "fp", color: "blue" }],
      }),
    ],
    [
      "switcher",
      "switcher",
      agentConfig("switcher", "fp-switcher", nats.url, {
        services: ["fp"],
        nginx: { test_command: ["true"], reload_command: ["true"] },
      }),
    ],
    ["monitor", "monitor", agentConfig("monitor", "fp-monitor", nats.url, { services: ["fp"] })],
    ["coordinator", "coordinator", coordinatorConfig(nats.url, "fp-coordinator")],
  ];
  const rss: Record<string, number> = {};
  const running: AgentProcess[] = [];
  try {
    // One at a time, so that each idles on a machine the others do not load.
    for (const [role, bin, config] of agents) {
      const env = { ...unitEnvironment(packagedUnit(role)), ...nodeOptions };
      dropFromPageCache(EXECUTABLE);
      const agent = await startAgent(bin, `fp-${role}`, tmp.path, config, {
        executable: EXECUTABLE,
        env,
      });
      running.push(agent);
      await sleep(IDLE_MS);
      rss[role] = rssMb(agent.process.pid);
      console.log(
        `${role.padEnd(12)} idle RSS ${rss[role]} MB (environment ${JSON.stringify(env)})`,
      );
      await agent.stop();
    }
  } finally {
    for (const agent of running) await agent.stop().catch(() => undefined);
    await nats.stop();
    await tmp.remove();
  }

  const executableMb = mb(statSync(EXECUTABLE).size);
  const debMb = mb(statSync(DEB).size);
  console.log(`executable ${executableMb} MB, .deb ${debMb} MB`);
  console.log(
    JSON.stringify({
      bench: "footprint",
      cli_start_p50_ms: p50(exe),
      cli_start_tsx_p50_ms: p50(tsx),
      agent_rss_mb: {
        "node-agent": rss["node-agent"],
        switcher: rss.switcher,
        monitor: rss.monitor,
        coordinator: rss.coordinator,
      },
      executable_mb: executableMb,
      deb_mb: debMb,
    }),
  );
}
