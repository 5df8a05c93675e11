// Two nodes per colour, end to end: nats-server, real nginx, four sample-app nodes (two blue
// serving v1.0, two green idle), a node agent per node, the switcher, the monitor and the
// coordinator as processes, driven by the `bluegreen` CLI. The deploy, the smoke checks and
// the switch wait for both nodes of the colour; the upstream file nginx includes lists both,
// and requests through nginx reach both; errors on one node of the new colour roll back.

import { readFileSync } from "node:fs";
import type { BgEvent, Color } from "@bluegreen/contracts";
import { nextEvent as nextServiceEvent } from "@bluegreen/testkit";
import { describe, expect, it } from "vitest";
import type { AppNode } from "../../scripts/demo/apps.ts";
import { type E2eStack, e2eStackForSuite, setFaults } from "./stack.ts";

let stack: E2eStack;
const names = (events: readonly BgEvent[]) => events.map((e) => e.type.replace("bluegreen.", ""));
const deploymentIdOf = (stdout: string) => /deploying \S+ \S+ as (\S+)/.exec(stdout)?.[1] ?? "";
const address = (node: AppNode) => `${node.host}:${node.port}`;
const addresses = (color: Color) => stack.base.nodes[color].map(address);
const nodeOf = (e: BgEvent) => (e.data as { node?: string }).node;

e2eStackForSuite(
  { window: "3s", nodesPerColor: 2 },
  (started) => {
    stack = started;
  },
  90_000,
);

/** The `server` lines of the upstream file nginx includes, and the colour in its header. */
function upstreamFile(): { color: string | undefined; servers: string[] } {
  const text = readFileSync(stack.base.definition.traffic.file, "utf8");
  return {
    color: /^# managed by bluegreen-switcher: .*color=(\w+)/m.exec(text)?.[1],
    servers: [...text.matchAll(/^\s*server\s+([^;\s]+);/gm)].map((m) => m[1] ?? ""),
  };
}

/** How many `GET path` requests the node itself has answered (its own counter). */
async function answered(node: AppNode, path: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith("http_requests_total{") && l.includes(`path="${path}"`))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

/** `count` requests through nginx, each on a new connection: who answered, and with what. */
async function throughNginx(
  path: string,
  count: number,
): Promise<{ addrs: Set<string>; colors: Set<string>; versions: Set<string> }> {
  const addrs = new Set<string>();
  const colors = new Set<string>();
  const versions = new Set<string>();
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${stack.nginxUrl}${path}`, {
      headers: { connection: "close" },
      signal: AbortSignal.timeout(5_000),
    });
    expect(response.status).toBe(200);
    addrs.add(response.headers.get("x-upstream-addr") ?? "");
    const body = (await response.json()) as { color?: string; version?: string };
    if (body.color !== undefined) colors.add(body.color);
    if (body.version !== undefined) versions.add(body.version);
  }
  return { addrs, colors, versions };
}

/** Stops (SIGSTOP) or resumes (SIGCONT) the node agent of a colour's second node. */
function secondNodeAgent(color: Color, signal: "SIGSTOP" | "SIGCONT"): void {
  const agent = stack.base.agents.find((a) => a.name === `node-agent-${color}-2`);
  if (agent === undefined) throw new Error(`no node-agent-${color}-2`);
  process.kill(agent.process.pid, signal);
}

describe("given two blue nodes serve v1.0 and two green nodes are idle", () => {
  it("the stack: the definition lists two nodes per colour; the upstream file and nginx send traffic to both blue nodes", async () => {
    expect(stack.base.definition.nodes.blue.map((n) => `${n.host}:${n.port}`)).toEqual(
      addresses("blue"),
    );
    expect(stack.base.definition.nodes.green).toHaveLength(2);
    expect(upstreamFile()).toEqual({ color: "blue", servers: addresses("blue") });
    const seen = await throughNginx("/health", 12);
    expect([...seen.addrs].sort()).toEqual([...addresses("blue")].sort());
    expect([...seen.colors]).toEqual(["blue"]);
  });

  it("deploy v1.1 --wait: both green nodes deploy and pass smoke, and the switch waits for the slower one", async () => {
    const [first, second] = addresses("green") as [string, string];
    // The second green node's agent is held: the first node gets through smoke alone.
    secondNodeAgent("green", "SIGSTOP");
    let resumed = false;
    try {
      const run = stack.cli(
        ["deploy", stack.service, "v1.1", "--wait", "--timeout", "60s"],
        70_000,
      );
      const firstPassed = await nextServiceEvent(
        stack.base.nc,
        stack.service,
        (e) => e.type === "bluegreen.smoke.passed" && nodeOf(e) === first,
        `smoke.passed from ${first}`,
        45_000,
      );
      // Long enough for a switch the coordinator would wrongly start on one node's word.
      await new Promise((r) => setTimeout(r, 2_000));
      const early = names(await stack.events(firstPassed.deploymentid ?? ""));
      expect(early).not.toContain("switch.requested");
      expect(await stack.served()).toMatchObject({ color: "blue", version: "v1.0" });
      expect(upstreamFile().color).toBe("blue");

      secondNodeAgent("green", "SIGCONT");
      resumed = true;
      const result = await run;
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const events = await stack.events(deploymentIdOf(result.stdout));
      const at = (type: string, node?: string) =>
        events.findIndex(
          (e) => e.type === `bluegreen.${type}` && (node === undefined || nodeOf(e) === node),
        );
      for (const node of [first, second]) {
        expect(at("deploy.ready", node), `deploy.ready from ${node}`).toBeGreaterThan(-1);
        expect(at("smoke.passed", node), `smoke.passed from ${node}`).toBeGreaterThan(-1);
        expect(at("smoke.passed", node)).toBeLessThan(at("switch.requested"));
      }
      expect(names(events)).toEqual(
        expect.arrayContaining(["switch.done", "monitor.passed", "deploy.succeeded"]),
      );
    } finally {
      if (!resumed) secondNodeAgent("green", "SIGCONT");
    }
  }, 80_000);

  it("after the switch the upstream file lists both green nodes, and requests through nginx reach both", async () => {
    expect(upstreamFile()).toEqual({ color: "green", servers: addresses("green") });
    const path = "/api/v1/memory";
    const before = await Promise.all(stack.base.nodes.green.map((n) => answered(n, path)));
    const seen = await throughNginx(path, 20);
    const after = await Promise.all(stack.base.nodes.green.map((n) => answered(n, path)));
    expect([...seen.addrs].sort()).toEqual([...addresses("green")].sort());
    expect(await stack.served()).toMatchObject({ status: 200, color: "green", version: "v1.1" });
    // Each green node counted requests of its own (only nginx sends this path now).
    for (const [i, node] of stack.base.nodes.green.entries())
      expect(after[i], `requests answered by ${address(node)}`).toBeGreaterThan(before[i] ?? 0);
    // The blue nodes left the upstream: none of these requests reached them.
    const blueSeen = [...seen.addrs].filter((a) => addresses("blue").includes(a));
    expect(blueSeen).toEqual([]);
  });

  it("errors on one of the two new blue nodes after the switch: slo.breached naming it, rolled back to both green nodes, exit 5", async () => {
    const faulty = stack.base.nodes.blue[1] as AppNode;
    const run = stack.cli(["deploy", stack.service, "v1.2", "--wait", "--timeout", "60s"], 70_000);
    await nextServiceEvent(
      stack.base.nc,
      stack.service,
      (e) =>
        e.type === "bluegreen.monitor.started" && (e.data as { color: string }).color === "blue",
      "monitor.started on blue",
      45_000,
    );
    // Both blue nodes serve v1.2 now: the upstream lists both.
    expect(upstreamFile()).toEqual({ color: "blue", servers: addresses("blue") });
    await setFaults(faulty, { errorRate: 1 });
    try {
      const result = await run;
      expect(result.code, result.stdout + result.stderr).toBe(5);
      const events = await stack.events(deploymentIdOf(result.stdout));
      const breach = events.find((e) => e.type === "bluegreen.slo.breached");
      expect(breach?.data).toMatchObject({ slo: "error-ratio", color: "blue" });
      expect((breach?.data as { query?: string } | undefined)?.query).toContain(address(faulty));
      expect(events.find((e) => e.type === "bluegreen.deploy.rolled_back")?.data).toMatchObject({
        from: "blue",
        to: "green",
        cause: "slo_breach",
        restoredVersion: "v1.1",
      });
      expect(upstreamFile()).toEqual({ color: "green", servers: addresses("green") });
      expect(await stack.served()).toMatchObject({ status: 200, color: "green", version: "v1.1" });
      const seen = await throughNginx("/health", 12);
      expect([...seen.addrs].sort()).toEqual([...addresses("green")].sort());
      expect([...seen.versions]).toEqual(["v1.1"]);
    } finally {
      await setFaults(faulty, { errorRate: 0 });
    }
  }, 80_000);
});
