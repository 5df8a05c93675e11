// Injection refused, nothing executed. A real node agent (its bin) serves a service whose first
// deploy step creates a file named after the version (`touch marker-${version}`). Given that
// agent, when deploy.started events carry versions crafted for shell and path injection,
// oversized fields, a wrong specversion or a duplicated id, then each is refused with a code,
// no marker appears and the agent spawns nothing; a valid deploy still runs, once.

import { readdirSync } from "node:fs";
import {
  type AnyBgEvent,
  createEvent,
  eventSubject,
  MAX_EVENT_BYTES,
  parseEvent,
  STREAM_NAME,
} from "@bluegreen/contracts";
import { ensureBuckets, ensureStream, putDefinition } from "@bluegreen/runtime";
import {
  descendantPids,
  makeTempDir,
  type NatsServer,
  type SampleAppHandle,
  startNats,
  startSampleApp,
  type TempDir,
} from "@bluegreen/testkit";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, launchAgent } from "./agents.ts";
import { INJECTION_VERSIONS } from "./payloads.ts";
import { EventTap } from "./tap.ts";

const SERVICE = "inj-app";
let nats: NatsServer;
let nc: NatsConnection;
let tap: EventTap;
let dir: TempDir;
let app: SampleAppHandle;
let agent: AgentProcess;
let seq = 0;

beforeAll(async () => {
  [nats, dir, app] = await Promise.all([
    startNats({ jetstream: true }),
    makeTempDir("chaos-injection"),
    startSampleApp({ color: "green", version: "v1.0" }),
  ]);
  nc = await connect({ servers: nats.url });
  await ensureStream(await nc.jetstreamManager(), { maxAgeMs: 0, replicas: 1 });
  const kv = await ensureBuckets(nc.jetstream(), { replicas: 1 });
  tap = new EventTap(nc, "never-");
  await putDefinition(
    kv.services,
    JSON.stringify({
      service: SERVICE,
      nodes: { blue: { host: "127.0.0.1", port: 1 }, green: { host: app.host, port: app.port } },
      deploy: {
        workdir: dir.path,
        steps: [
          ["touch", "marker-${version}"],
          ["touch", "${version}"],
        ],
        timeout: "20s",
      },
      readiness: { path: "/health", interval: "100ms", timeout: "5s" },
      smoke: [],
      traffic: {
        upstream: "inj_active",
        file: `${dir.path}/active.conf`,
        verify: { url: "http://127.0.0.1:1/health" },
      },
      monitor: {
        source: { scrape: true },
        slos: [{ name: "errors", scrape: { errorRatio: {} }, max: 0.05 }],
      },
    }),
  );
  agent = await launchAgent({
    role: "node-agent",
    agentId: "node-agent-injection",
    dir,
    nats: { servers: [nats.url] },
    settings: { serves: [{ service: SERVICE, color: "green" }] },
  });
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  tap?.stop();
  await nc?.close();
  await Promise.allSettled([app?.stop(), nats?.stop()]);
  await dir?.remove();
});

/** A deploy.started as the coordinator sends it, as a plain object to break at will. */
function started(deploymentId: string, version = "v1.1"): Record<string, unknown> {
  const event = createEvent("deploy.started", {
    service: SERVICE,
    source: "bluegreen/test/chaos",
    deploymentId,
    id: `inj-${deploymentId}`,
    data: {
      version: "v0",
      color: "green",
      nodes: [{ host: app.host, port: app.port }],
      activeColor: "blue",
    },
  });
  const raw = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  (raw.data as Record<string, unknown>).version = version;
  return raw;
}

async function publish(
  payload: Record<string, unknown> | string,
  msgID = `inj-msg-${++seq}`,
): Promise<{ duplicate: boolean }> {
  const text = typeof payload === "string" ? payload : JSON.stringify(payload);
  return nc.jetstream().publish(eventSubject(SERVICE, "deploy.started"), text, { msgID });
}

function rejectionOf(originalId: string) {
  return tap.wait("agent.rejected", (e) => e.data.originalId === originalId, 10_000);
}

/** Every event stored in the stream (the audit log), in order. */
async function streamEvents(): Promise<AnyBgEvent[]> {
  const jsm = await nc.jetstreamManager();
  const { state } = (await jsm.streams.info(STREAM_NAME)) as {
    state: { first_seq: number; last_seq: number };
  };
  const out: AnyBgEvent[] = [];
  for (let s = state.first_seq; s <= state.last_seq; s++) {
    const msg = await jsm.streams.getMessage(STREAM_NAME, { seq: s });
    const parsed = parseEvent(msg.data, { subject: msg.subject });
    if (parsed.ok) out.push(parsed.event as AnyBgEvent);
  }
  return out;
}

// What the deploy steps left in the workdir (the agent's own config file lives there too).
const markers = () => readdirSync(dir.path).filter((f) => !/\.(json|yaml)$/.test(f));

describe("chaos: injection refused, nothing executed", () => {
  it.each(INJECTION_VERSIONS.map((v, i) => [JSON.stringify(v).slice(0, 40), v, i] as const))(
    "given version %s in deploy.started, then BG_ERR_VERSION_UNSAFE and no step runs",
    async (_, version, i) => {
      const event = started(`d-inj-${i}`, version);
      await publish(event);
      const rejected = await rejectionOf(event.id as string);
      expect(rejected.data).toMatchObject({
        code: "BG_ERR_VERSION_UNSAFE",
        rejectedBy: agent.rejectedBy,
        originalSubject: eventSubject(SERVICE, "deploy.started"),
      });
      expect(rejected.deploymentid).toBe(`d-inj-${i}`);
    },
  );

  it.each([
    [
      "a 300-character source",
      (e: Record<string, unknown>) => ({ ...e, source: "s".repeat(300) }),
      "BG_ERR_EVENT_INVALID",
    ],
    [
      "65 nodes (the limit is 64)",
      (e: Record<string, unknown>) => ({
        ...e,
        data: {
          ...(e.data as object),
          nodes: Array.from({ length: 65 }, () => ({ host: "127.0.0.1", port: 1 })),
        },
      }),
      "BG_ERR_EVENT_INVALID",
    ],
    [
      "a message over 64 KiB",
      (e: Record<string, unknown>) => ({ ...e, padding: "p".repeat(MAX_EVENT_BYTES) }),
      "BG_ERR_EVENT_TOO_LARGE",
    ],
    [
      "specversion 0.3",
      (e: Record<string, unknown>) => ({ ...e, specversion: "0.3" }),
      "BG_ERR_EVENT_SPECVERSION",
    ],
    [
      "specversion 1 (a number)",
      (e: Record<string, unknown>) => ({ ...e, specversion: 1 }),
      "BG_ERR_EVENT_SPECVERSION",
    ],
    [
      "a deploymentid crafted as a path",
      (e: Record<string, unknown>) => ({ ...e, deploymentid: "../../etc" }),
      "BG_ERR_EVENT_INVALID",
    ],
  ] as const)(
    "given deploy.started with %s, then it is refused with its code",
    async (_, mutate, code) => {
      const name = `d-odd-${++seq}`;
      const event = mutate(started(name));
      await publish(event);
      // A message too large to read has no id to quote: find it by its subject and code.
      const rejected =
        code === "BG_ERR_EVENT_TOO_LARGE"
          ? await tap.wait("agent.rejected", (e) => e.data.code === code, 10_000)
          : await rejectionOf(`inj-${name}`);
      expect(rejected.data).toMatchObject({ code, rejectedBy: agent.rejectedBy });
    },
  );

  it("given all of that was refused, then no marker exists, no deploy.progress was published and the agent has no child process", async () => {
    expect(markers()).toEqual([]);
    expect(tap.of("deploy.progress")).toEqual([]);
    expect(tap.of("deploy.failed")).toEqual([]);
    expect(descendantPids(agent.process.pid)).toEqual([]);
    expect(await agent.healthz()).toBe(200);
  });

  it("given a deploy that ran, when an event with its id (and deployment) arrives again with another version, then nothing runs a second time", async () => {
    const first = started("d-inj-real", "v1.1");
    await publish(first, "inj-real-1");
    const passed = await tap.wait("smoke.passed", (e) => e.deploymentid === "d-inj-real", 20_000);
    expect(passed.data.version).toBe("v1.1");
    expect(markers().sort()).toEqual(["marker-v1.1", "v1.1"]);

    // The same Nats-Msg-Id: the stream itself drops it.
    expect((await publish(first, "inj-real-1")).duplicate).toBe(true);
    // The same CloudEvents id and deployment, another version, a new Nats-Msg-Id.
    const republished = agent.process.waitForLine(
      (l) => l.includes("re-publishing the recorded result"),
      {
        what: "the agent to answer with the recorded result",
        timeoutMs: 10_000,
      },
    );
    await publish(started("d-inj-real", "v6.6"), "inj-real-2");
    await republished;
    expect(markers().sort()).toEqual(["marker-v1.1", "v1.1"]);
    // In the audit stream, two steps, each started once: nothing ran twice.
    const stored = (await streamEvents()).filter(
      (e) => e.type === "bluegreen.deploy.progress" && e.deploymentid === "d-inj-real",
    );
    expect(
      stored.filter((e) => e.type === "bluegreen.deploy.progress" && e.data.status === "started"),
    ).toHaveLength(2);
  }, 30_000);

  // The node agent deploys only nodes the service definition names for that colour: a
  // deploy.started that points it at another host is rejected before any step runs.
  it("given deploy.started naming a node the definition does not have (host `$(id)`), then it is refused and no step runs", async () => {
    const event = started("d-foreign-node", "v2.0");
    (event.data as Record<string, unknown>).nodes = [{ host: "$(id)", port: 1 }];
    await publish(event);
    const refused = await tap
      .wait("agent.rejected", (e) => e.data.originalId === event.id, 3_000)
      .catch(() => undefined);
    await tap
      .wait("deploy.failed", (e) => e.deploymentid === "d-foreign-node", 10_000)
      .catch(() => undefined);
    expect(refused?.data.rejectedBy).toBe(agent.rejectedBy);
    expect(markers()).not.toContain("marker-v2.0");
  }, 20_000);
});
