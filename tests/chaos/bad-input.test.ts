// Bad input, generated: over 10 000 seeded payloads per agent (arbitrary bytes, arbitrary JSON,
// valid events with one field broken) published into the real BLUEGREEN stream on every
// subject each agent consumes, while the switcher, the node agent and the monitor run.
// Given the three agents, when the payloads arrive, then each is answered by a coded
// agent.rejected, no agent crashes, nothing runs, nothing switches — and afterwards each agent
// still does its real job.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import {
  type BgEvent,
  createEvent,
  type EventName,
  encodeEvent,
  eventSubject,
  STREAM_NAME,
} from "@bluegreen/contracts";
import { Bus, createLogger, putDefinition } from "@bluegreen/runtime";
import {
  freePorts,
  makeTempDir,
  promotedData,
  publishEvent,
  runCommand,
  SAMPLE_APP_CTL,
  SwitcherRig,
  startApiTraffic,
  startedData,
  type TempDir,
  waitFor,
  watchDefinitionYaml,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { renderLocalDefinition } from "../../examples/local/definition.ts";
import { SCRAPE_ERROR_RATIO } from "../monitor/harness.ts";
import { type AgentProcess, launchAgent, PublishQueue } from "./agents.ts";
import { type FuzzPayload, fuzzPayloads, UNKNOWN_SERVICE } from "./payloads.ts";
import { EventTap } from "./tap.ts";

const LOCAL = "local-app";
const WATCHED = "watch-app";
const SEED = 20261126;

let rig: SwitcherRig;
let dir: TempDir;
let greenPort: number;
let bus: Bus;
let switcher: AgentProcess;
let nodeAgent: AgentProcess;
let monitor: AgentProcess;
let tap: EventTap;

/** Which agents must refuse the payloads published on each event name. */
const PLAN: { name: EventName; service: string; count: number; agents: string[] }[] = [
  { name: "switch.requested", service: "emily", count: 10_000, agents: ["switcher"] },
  { name: "deploy.started", service: LOCAL, count: 6_000, agents: ["node-agent"] },
  // The node agent and the monitor both consume deploy.aborted: both must refuse each one.
  { name: "deploy.aborted", service: LOCAL, count: 4_000, agents: ["node-agent", "monitor"] },
  { name: "switch.done", service: WATCHED, count: 3_000, agents: ["monitor"] },
  { name: "deploy.succeeded", service: WATCHED, count: 1_000, agents: ["monitor"] },
  { name: "deploy.rolled_back", service: WATCHED, count: 1_000, agents: ["monitor"] },
  { name: "deploy.failed", service: WATCHED, count: 1_000, agents: ["monitor"] },
];

interface Published {
  payload: FuzzPayload;
  seq: number;
  agents: string[];
}
const published: Published[] = [];
const figures: Record<string, number> = {};
let before: { file: string; revision: number; reloads: number };

const agentsByRole = () => ({ switcher, "node-agent": nodeAgent, monitor });

const rejections = () => tap.of("agent.rejected");

/** Rejection ids end with the stream sequence of the refused message. */
const seqOf = (e: BgEvent<"agent.rejected">) => Number(e.id.slice(e.id.lastIndexOf("-") + 1));

function localDefinition(stateDir: string, bluePort: number, port: number): string {
  const def = parse(renderLocalDefinition({ stateDir, bluePort, greenPort: port })) as {
    deploy: { steps: string[][] };
  };
  // A marker step first: for any deploy that runs, a file named after the version appears.
  def.deploy.steps.unshift(["touch", "marker-${version}"]);
  return stringify(def);
}

/** The agents' durable consumers (the rig's stopped ordered consumer is not one). */
async function durables() {
  const jsm = await rig.nc.jetstreamManager();
  const all = await jsm.consumers.list(STREAM_NAME).next();
  return all.filter((c) => c.config.durable_name !== undefined);
}

/**
 * One fuzz payload into the stream. Under load a publish may time out before its ack: it is
 * sent again with the same Nats-Msg-Id, so the stream keeps it once.
 */
async function publishFuzz(payload: FuzzPayload, msgID: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const ack = await rig.js.publish(payload.subject, payload.bytes, { msgID, timeout: 10_000 });
      return ack.seq;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

const markers = () => readdirSync(dir.path).filter((f) => f.startsWith("marker-"));

beforeAll(async () => {
  let ports: number[];
  [rig, dir, ports] = await Promise.all([
    SwitcherRig.start(),
    makeTempDir("chaos-bad-input"),
    freePorts(2),
  ]);
  // The rig's own log parses every message of the stream; this suite's tap skips the fuzz.
  rig.log.stop();
  tap = new EventTap(rig.nc);
  await rig.nc.flush();
  const [bluePort, port] = ports as [number, number];
  greenPort = port;
  await putDefinition(rig.kv.services, localDefinition(dir.path, bluePort, greenPort));
  await putDefinition(
    rig.kv.services,
    watchDefinitionYaml({
      service: WATCHED,
      blue: rig.blue.instance,
      green: rig.green.instance,
      monitor: {
        window: "3s",
        interval: "1s",
        source: { scrape: true, timeout: "1s" },
        slos: [SCRAPE_ERROR_RATIO],
      },
    }),
  );
  bus = new Bus({
    nc: rig.nc,
    role: "coordinator",
    agentId: "chaos-test",
    logger: createLogger({ level: "silent" }),
  });
  const nats = { servers: [rig.nats.url] };
  [switcher, nodeAgent, monitor] = await Promise.all([
    launchAgent({
      role: "switcher",
      agentId: "switcher-chaos",
      dir,
      nats,
      settings: {
        services: ["emily", UNKNOWN_SERVICE],
        nginx: {
          test_command: [...rig.nginx.testCommand],
          reload_command: [...rig.nginx.reloadCommand],
          command_timeout: "10s",
        },
      },
    }),
    launchAgent({
      role: "node-agent",
      agentId: "node-agent-chaos",
      dir,
      nats,
      settings: { serves: [{ service: LOCAL, color: "green" }] },
    }),
    launchAgent({
      role: "monitor",
      agentId: "monitor-chaos",
      dir,
      nats,
      settings: { services: ["*"] },
    }),
  ]);
  before = {
    file: readFileSync(rig.upstreamFile, "utf8"),
    revision: (await rig.active()).revision,
    reloads: rig.reloads(),
  };
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([switcher?.stop(), nodeAgent?.stop(), monitor?.stop()]);
  tap?.stop();
  await bus?.stop();
  const greenDir = dir === undefined ? undefined : dir.file(`${LOCAL}-green`);
  if (greenDir !== undefined && existsSync(greenDir))
    await runCommand(process.execPath, [SAMPLE_APP_CTL, "stop", "--dir", greenDir]);
  await rig?.stop();
  await dir?.remove();
  console.log(`bad-input figures: ${JSON.stringify(figures)}`);
}, 60_000);

describe("chaos: generated bad input against the running agents", () => {
  it("given the three agents, when 10 000+ generated bad payloads per agent arrive on every subject they consume, then each is answered by a coded agent.rejected and every agent stays healthy", async () => {
    // Each set goes to the publishers as soon as it is generated, so the agents work on one
    // set while the next is generated; at most 128 publishes are in flight in all.
    const t1 = performance.now();
    let generateMs = 0;
    let droppedValid = 0;
    const queue = new PublishQueue<{ payload: FuzzPayload; msgID: string }>(
      (item) => publishFuzz(item.payload, item.msgID),
      128,
    );
    for (const [i, p] of PLAN.entries()) {
      const g = performance.now();
      const set = fuzzPayloads(p.name, p.service, p.count, SEED + i * 1_000);
      generateMs += performance.now() - g;
      droppedValid += set.droppedValid;
      set.payloads.forEach((payload, k) => {
        queue.push({ payload, msgID: `fuzz-${SEED}-${i}-${k}` }, (seq) => {
          published.push({ payload, agents: p.agents, seq });
        });
      });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await queue.drain();
    figures.generateMs = Math.round(generateMs);
    figures.droppedValid = droppedValid;
    figures.published = published.length;
    figures.publishMs = Math.round(performance.now() - t1);

    const perAgent: Record<string, number> = {};
    for (const p of published) for (const a of p.agents) perAgent[a] = (perAgent[a] ?? 0) + 1;
    for (const role of ["switcher", "node-agent", "monitor"])
      expect(perAgent[role]).toBeGreaterThanOrEqual(10_000);

    // Then every payload is answered, by every agent that consumes its subject.
    const expected = Object.entries(agentsByRole()).map(([role, agent]) => ({
      rejectedBy: agent.rejectedBy,
      seqs: new Map(
        published.filter((p) => p.agents.includes(role)).map((p) => [p.seq, p.payload]),
      ),
    }));
    await waitFor(
      () => {
        const seen = rejections();
        return expected.every(
          (x) => seen.filter((r) => r.data.rejectedBy === x.rejectedBy).length >= x.seqs.size,
        )
          ? true
          : undefined;
      },
      { what: "a rejection for every fuzzed payload", timeoutMs: 120_000, intervalMs: 200 },
    );
    figures.allRejectedMs = Math.round(performance.now() - t1);
    figures.ratePerSecond = Math.round(
      expected.reduce((n, x) => n + x.seqs.size, 0) / (figures.allRejectedMs / 1000),
    );
    const seen = rejections();
    for (const x of expected) {
      const mine = seen.filter((r) => r.data.rejectedBy === x.rejectedBy);
      // Exactly one rejection per payload, naming the payload's subject and the parser's code.
      expect(mine).toHaveLength(x.seqs.size);
      const mismatches = mine.filter((r) => {
        const payload = x.seqs.get(seqOf(r));
        return payload?.code !== r.data.code || payload?.subject !== r.data.originalSubject;
      });
      expect(mismatches.slice(0, 3)).toEqual([]);
    }

    // No crash: every agent still answers /healthz, and no error was logged.
    for (const agent of Object.values(agentsByRole())) {
      expect(await agent.healthz()).toBe(200);
      expect(agent.process.running).toBe(true);
      const errors = agent.lines.filter((l) => /"level":"(error|fatal)"/.test(l));
      expect(errors.slice(0, 2)).toEqual([]);
    }
  }, 240_000);

  it("given the flood has been answered, then every consumer is drained, no step ran and nothing switched", async () => {
    await waitFor(
      async () => {
        const busy = (await durables()).filter((c) => c.num_pending > 0 || c.num_ack_pending > 0);
        return busy.length === 0 ? true : undefined;
      },
      { what: "every durable consumer to be drained", timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(markers()).toEqual([]);
    expect(tap.unparsed).toEqual([]);
    // (A publish retried under load is dropped by the stream but still seen on the wire.)
    expect(tap.fuzzSeen).toBeGreaterThanOrEqual(published.length);
    const acted = tap.events.filter((e) =>
      [
        "bluegreen.deploy.progress",
        "bluegreen.deploy.ready",
        "bluegreen.smoke.passed",
        "bluegreen.switch.done",
        "bluegreen.monitor.started",
      ].includes(e.type),
    );
    expect(acted.map((e) => e.type)).toEqual([]);
    expect(readFileSync(rig.upstreamFile, "utf8")).toBe(before.file);
    expect((await rig.active()).revision).toBe(before.revision);
    expect(rig.reloads()).toBe(before.reloads);
    expect((await rig.throughNginx()).color).toBe("blue");
  }, 30_000);

  it("given valid events for a service no definition names, then each agent does what its docs say: switcher switch.failed (config), node agent acks and skips, monitor rejects", async () => {
    const deploymentId = "d-ghost-1";
    const request = createEvent("switch.requested", {
      service: UNKNOWN_SERVICE,
      source: "bluegreen/test/chaos",
      deploymentId,
      data: { to: "green", reason: "promote", expectedRevision: 1 },
    });
    const started = createEvent("deploy.started", {
      service: UNKNOWN_SERVICE,
      source: "bluegreen/test/chaos",
      deploymentId,
      data: startedData("v9", { host: "127.0.0.1", port: greenPort }),
    });
    const done = createEvent("switch.done", {
      service: UNKNOWN_SERVICE,
      source: "bluegreen/test/chaos",
      deploymentId,
      data: promotedData(),
    });
    for (const e of [request, started, done] as BgEvent[]) {
      await rig.js.publish(
        eventSubject(UNKNOWN_SERVICE, e.type.slice(10) as EventName),
        encodeEvent(e),
        {
          msgID: e.id,
        },
      );
    }
    const failed = await tap.wait("switch.failed", (e) => e.subject === UNKNOWN_SERVICE);
    expect(failed.data).toMatchObject({
      stage: "config",
      restored: true,
      error: { code: "BG_ERR_CONFIG_UNKNOWN_SERVICE" },
    });
    const refused = await tap.wait("agent.rejected", (e) => e.data.originalId === done.id, 10_000);
    expect(refused.data).toMatchObject({
      code: "BG_ERR_CONFIG_UNKNOWN_SERVICE",
      rejectedBy: monitor.rejectedBy,
    });
    // The node agent acknowledged the deploy.started for a service it does not serve: its
    // consumer is drained, and it neither rejected it nor ran anything.
    await waitFor(
      async () => {
        return (await durables()).every((c) => c.num_pending === 0 && c.num_ack_pending === 0)
          ? true
          : undefined;
      },
      { what: "the node agent to acknowledge the event", timeoutMs: 10_000, intervalMs: 100 },
    );
    const fromNode = tap.events.filter(
      (e) =>
        e.deploymentid === deploymentId &&
        (e.source.includes("node-agent") ||
          (e.type === "bluegreen.agent.rejected" && e.data.rejectedBy === nodeAgent.rejectedBy)),
    );
    expect(fromNode).toEqual([]);
    expect(markers()).toEqual([]);
  }, 30_000);

  it("given the flood is over, when a real switch is requested, then nginx serves green and the record follows", async () => {
    const request = await rig.request({
      to: "green",
      reason: "manual",
      expectedRevision: (await rig.active()).revision,
    });
    const done = await tap.wait("switch.done", (e) => e.id === `${request.id}.done`);
    expect(done.data).toMatchObject({ from: "blue", to: "green", changed: true });
    await rig.untilServes("green");
    expect(rig.fileColor()).toBe("green");
    expect((await rig.active()).record?.color).toBe("green");
  }, 30_000);

  it("given the flood is over, when a real deploy.started arrives, then the node agent deploys the sample app and only its marker exists", async () => {
    const deploymentId = "d-chaos-real";
    const started = createEvent("deploy.started", {
      service: LOCAL,
      source: "bluegreen/test/chaos",
      deploymentId,
      data: startedData("v1.1", { host: "127.0.0.1", port: greenPort }),
    });
    await publishEvent(rig.js, started as BgEvent);
    const passed = await tap.wait("smoke.passed", (e) => e.deploymentid === deploymentId, 45_000);
    expect(passed.data.version).toBe("v1.1");
    const health = await fetch(`http://127.0.0.1:${greenPort}/health`);
    expect(await health.json()).toMatchObject({ status: "healthy", version: "v1.1" });
    expect(markers()).toEqual(["marker-v1.1"]);
  }, 60_000);

  it("given the flood is over, when a promotion of the watched service is done, then the monitor watches its window and passes it", async () => {
    const traffic = startApiTraffic([rig.green.url]);
    try {
      const deploymentId = "d-chaos-watch";
      await bus.emit("switch.done", {
        service: WATCHED,
        deploymentId,
        data: promotedData({ version: "v1.1" }),
      });
      const started = await tap.wait("monitor.started", (e) => e.deploymentid === deploymentId);
      expect(started.data).toMatchObject({ color: "green", instances: [rig.green.instance] });
      const passed = await tap.wait(
        "monitor.passed",
        (e) => e.deploymentid === deploymentId,
        15_000,
      );
      expect(passed.data.checks).toBeGreaterThanOrEqual(2);
    } finally {
      await traffic.stop();
    }
  }, 30_000);
});
