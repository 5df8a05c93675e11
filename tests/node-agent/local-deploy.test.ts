// Given the example definition (examples/local) and a node agent serving its green colour,
// when the coordinator's deploy.started arrives, then the agent deploys the sample app with
// the ctl steps, waits for readiness and runs the guide's three smoke checks.
import { existsSync, readFileSync } from "node:fs";
import {
  freePorts,
  httpGet,
  runCommand,
  SAMPLE_APP_CTL,
  streamEvents,
  timeline,
  waitFor,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderLocalDefinition } from "../../examples/local/definition.ts";
import {
  type AgentProcess,
  applyDefinition,
  busAndDir,
  EXAMPLE_PASSED,
  eventsOf,
  finalEvent,
  heartbeatOf,
  publishGreenStarted,
  startAgent,
  waitForOutcome,
} from "./harness.ts";

const SERVICE = "local-app";
const rig = busAndDir("node-agent-local");
let agent: AgentProcess;
let greenPort: number;
const greenDir = () => rig.dir.file(`${SERVICE}-green`);

beforeAll(async () => {
  const [bluePort, port] = (await freePorts(2)) as [number, number];
  greenPort = port;
  const definition = renderLocalDefinition({ stateDir: rig.dir.path, bluePort, greenPort });
  await applyDefinition(rig.bus, definition);
  agent = await startAgent(rig.bus, rig.dir, { serves: [{ service: SERVICE, color: "green" }] });
});

afterAll(async () => {
  await agent?.stop();
  if (rig.dir !== undefined && existsSync(greenDir()))
    await runCommand(process.execPath, [SAMPLE_APP_CTL, "stop", "--dir", greenDir()]);
});

/** Publishes the deploy.started of `version` to green (a second time too, when repeated). */
function start(deploymentId: string, version: string, extra: { previousVersion?: string } = {}) {
  const started = { service: SERVICE, deploymentId, version, port: greenPort };
  return publishGreenStarted(rig.bus, started, extra);
}

async function deploy(deploymentId: string, version: string) {
  await start(deploymentId, version, { previousVersion: "v1.0" });
  return waitForOutcome(rig.bus, deploymentId, 45_000);
}

/** Delivers d-local-2's deploy.started again; resolves once `agent` re-published its result. */
async function redeliver(what: string): Promise<void> {
  const republished = agent.process.waitForLine(
    (l) => l.includes("re-publishing the recorded result"),
    { what, timeoutMs: 15_000 },
  );
  await start("d-local-2", "v1.2");
  await republished;
}

describe("node agent, local executor, example definition", () => {
  it("given idle green, when v1.1 is deployed, then the steps, readiness and the guide's smoke checks pass, in order", async () => {
    const events = await deploy("d-local-1", "v1.1");
    expect(timeline(events)).toEqual(EXAMPLE_PASSED);
    const progress = events.filter((e) => e.type === "bluegreen.deploy.progress");
    expect(progress.every((e) => e.source === `bluegreen/node-agent/${agent.agentId}`)).toBe(true);
    const smoke = finalEvent(events, "smoke.passed");
    expect(smoke.data.node).toBe(`127.0.0.1:${greenPort}`);
    expect(smoke.data.checks.map((c) => [c.name, c.ok, c.status])).toEqual([
      ["health", true, 200],
      ["inference", true, 200],
      ["memory", true, 200],
    ]);
    const health = await httpGet(`http://127.0.0.1:${greenPort}/health`);
    expect(JSON.parse(health?.body ?? "{}")).toMatchObject({ status: "healthy", version: "v1.1" });
    expect(readFileSync(`${greenDir()}/VERSION`, "utf8").trim()).toBe("v1.1");
  });

  it("given green runs v1.1, when v1.2 is deployed, then the old process is stopped and v1.2 serves", async () => {
    const before = Number(readFileSync(`${greenDir()}/app.pid`, "utf8"));
    const events = await deploy("d-local-2", "v1.2");
    expect(finalEvent(events, "smoke.passed").data.version).toBe("v1.2");
    const stop = events.find(
      (e) =>
        e.type === "bluegreen.deploy.progress" &&
        e.data.step === 1 &&
        e.data.status === "succeeded",
    );
    expect(stop?.type === "bluegreen.deploy.progress" && stop.data.outputTail).toContain(
      '"wasRunning":true',
    );
    const health = await httpGet(`http://127.0.0.1:${greenPort}/health`);
    expect(JSON.parse(health?.body ?? "{}")).toMatchObject({ version: "v1.2" });
    expect(Number(readFileSync(`${greenDir()}/app.pid`, "utf8"))).not.toBe(before);
  });

  it("given a finished deploy, when its deploy.started is delivered again (even after a restart), then nothing runs twice", async () => {
    const pid = readFileSync(`${greenDir()}/app.pid`, "utf8");
    const countBefore = (await eventsOf(rig.bus, "d-local-2")).length;
    await redeliver("the agent to re-publish the stored result");

    // A new agent process: the result comes from KV, not from memory.
    await agent.stop();
    agent = await startAgent(rig.bus, rig.dir, { serves: [{ service: SERVICE, color: "green" }] });
    await redeliver("the restarted agent to re-publish the stored result");

    const events = await eventsOf(rig.bus, "d-local-2");
    // Only the two repeated deploy.started were added: the re-published results carry the
    // same event ids, so the stream de-duplicated them; no step ran again.
    expect(events.length).toBe(countBefore + 2);
    expect(timeline(events).filter((t) => t.startsWith("progress"))).toHaveLength(6);
    expect(readFileSync(`${greenDir()}/app.pid`, "utf8")).toBe(pid);
  });

  it("given an unsafe version in a deploy.started, then it is rejected with a code and nothing on the node changes", async () => {
    const payload = JSON.stringify({
      specversion: "1.0",
      id: "evil-1",
      source: "bluegreen/coordinator/test",
      type: "bluegreen.deploy.started",
      time: new Date().toISOString(),
      subject: SERVICE,
      deploymentid: "d-evil",
      data: {
        version: "v1;touch pwned",
        color: "green",
        nodes: [{ host: "127.0.0.1", port: greenPort }],
        activeColor: "blue",
      },
    });
    await rig.bus.js.publish(
      `bluegreen.${SERVICE}.deploy.started`,
      new TextEncoder().encode(payload),
      {
        msgID: "evil-1",
      },
    );
    const rejected = await waitFor(
      async () =>
        (await streamEvents(rig.bus.jsm)).find(
          (e) => e.type === "bluegreen.agent.rejected" && e.data.originalId === "evil-1",
        ),
      { what: "the agent.rejected answer", timeoutMs: 15_000 },
    );
    expect(rejected.type === "bluegreen.agent.rejected" && rejected.data.code).toBe(
      "BG_ERR_VERSION_UNSAFE",
    );
    expect(rejected.data).toMatchObject({ rejectedBy: `node-agent/${agent.agentId}` });
    expect(timeline(await eventsOf(rig.bus, "d-evil"))).toEqual(["agent.rejected"]);
    expect(readFileSync(`${greenDir()}/VERSION`, "utf8").trim()).toBe("v1.2");
    expect(existsSync(rig.dir.file("pwned"))).toBe(false);
  });

  it("heartbeats carry the service, the colour and the version the node reports; /metrics counts deploys", async () => {
    const hb = await waitFor(
      async () => {
        const beat = await heartbeatOf(rig.bus, agent.agentId);
        return beat?.data.nodes?.[0]?.version === "v1.2" ? beat : undefined;
      },
      { what: "a heartbeat with the node's version", timeoutMs: 10_000 },
    );
    expect(hb.data).toMatchObject({
      role: "node-agent",
      services: [SERVICE],
      color: "green",
      nodes: [{ node: `127.0.0.1:${greenPort}`, healthy: true, version: "v1.2" }],
    });
    // The restarted agent has not deployed yet; its metrics show the series once it has.
    const metrics = await httpGet(`${agent.httpUrl}/metrics`);
    expect(metrics?.status).toBe(200);
    expect(metrics?.body).toContain("bluegreen_deploys_total");
    expect(metrics?.body).toContain("bluegreen_node_agent_step_duration_seconds");
    const healthz = await httpGet(`${agent.httpUrl}/healthz`);
    expect(healthz?.status).toBe(200);
  });

  it("on SIGTERM the agent stops cleanly and says so in its last heartbeat", async () => {
    const exit = await agent.process.stop({ timeoutMs: 10_000 });
    expect(exit).toEqual({ code: 0, signal: null });
    const hb = await heartbeatOf(rig.bus, agent.agentId);
    expect(hb?.data.state).toBe("stopped");
  });
});
