// Given a nats-server started with the example config (deploy/nats/nats-server.conf), one user
// per role: when each agent runs through runtime's runAgent as its own user, then a whole
// deployment's worth of events flows between them; and when a user tries what its role must
// not do (a node agent requesting a switch, CI doing anything but requesting deploys and
// reading, an anonymous client), then the server refuses it.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  Buckets,
  EVENT_NAMES,
  EVENTS,
  type EventName,
  eventSubject,
  filterSubject,
  parseEvent,
  STREAM_NAME,
} from "@bluegreen/contracts";
import { Checkpointer } from "@bluegreen/coordinator/internal";
import {
  Bus,
  casUpdate,
  connectionOptions,
  createLogger,
  ensureBuckets,
  ensureStream,
  loadPublicKey,
  loadSigningKey,
  putDefinition,
  type RunningAgent,
  readHeartbeats,
  readJson,
  readTrail,
  runAgent,
  verifyTrail,
  writeKeyPair,
} from "@bluegreen/runtime";
import {
  makeTempDir,
  type NatsServer,
  REPO_ROOT,
  runCommand,
  startNats,
  type TempDir,
  waitFor,
} from "@bluegreen/testkit";
import { connect, Events, headers, type NatsConnection, type NatsError } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventsPublishedBy,
  NATS_CONFIG_PATH,
  PASSWORDS_EXAMPLE_PATH,
  ROLES,
  Role,
  runnableConfig,
  TEST_USERS,
  withTls,
} from "./nats-example.ts";

const SERVICE = "emily";
const DEPLOYMENT = "d-20261126-ops001";
const WAIT_MS = 10_000;

let dir: TempDir;
let server: NatsServer;
const open: NatsConnection[] = [];

beforeAll(async () => {
  dir = await makeTempDir("ops-nats");
  server = await startNats({ config: runnableConfig(dir), allowExternal: false });
});

afterAll(async () => {
  await Promise.allSettled(open.map((nc) => nc.close()));
  await server?.stop();
  await dir?.remove();
});

/** The server's log lines about permission violations (all, or those not in `before`). */
const violationLines = (before: readonly string[] = []): string[] => {
  const known = new Set(before);
  return (server.process?.output.text() ?? "")
    .split("\n")
    .filter((line) => /violation/i.test(line) && !known.has(line));
};

/** Waits until the server has logged a violation matching `pattern` (its log trails the client). */
const serverLogged = (pattern: RegExp) =>
  waitFor(() => violationLines().find((line) => pattern.test(line)), {
    what: `the server to log a violation matching ${pattern}`,
    timeoutMs: WAIT_MS,
  });

async function connectAs(role: Role | undefined, pass?: string): Promise<NatsConnection> {
  const nc = await connect({
    servers: [server.url],
    ...(role === undefined ? {} : { user: role, pass: pass ?? TEST_USERS[role].pass }),
    maxReconnectAttempts: 0,
    timeout: 3_000,
  });
  open.push(nc);
  return nc;
}

/** A subject no role may publish to: refused last, it marks the end of the answers. */
const SENTINEL = "bluegreen_test.sentinel";

/**
 * Publishes to each subject (core NATS, fire and forget) and answers which ones the server
 * refused. A `Nats-Expected-Stream` header naming no stream makes JetStream drop the allowed
 * ones too, so the audit stream stays clean.
 */
async function refusedPublishes(role: Role, subjects: readonly string[]): Promise<Set<string>> {
  const nc = await connectAs(role);
  const refused = new Set<string>();
  // The server answers each violation at once and in order: the sentinel's comes last.
  const answered = (async () => {
    for await (const s of nc.status()) {
      const context = s.permissionContext;
      if (s.type !== Events.Error || context?.operation !== "publish") continue;
      if (context.subject === SENTINEL) return;
      refused.add(context.subject);
    }
  })();
  const h = headers();
  h.set("Nats-Expected-Stream", "NO_SUCH_STREAM");
  for (const subject of [...subjects, SENTINEL])
    nc.publish(subject, new Uint8Array(), { headers: h });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer for ${SENTINEL} in ${WAIT_MS} ms`)),
      WAIT_MS,
    );
  });
  await Promise.race([answered, deadline]).finally(() => clearTimeout(timer));
  await nc.close();
  return refused;
}

/** The subjects of every event in the stream, read as the operator's CLI reads them. */
async function streamSubjects(): Promise<string[]> {
  const nc = await connectAs(Role.operator);
  const info = await (await nc.jetstreamManager()).streams.info(STREAM_NAME);
  const subjects: string[] = [];
  if (info.state.messages > 0) {
    // An ordered consumer starts at the first message by default. (Naming DeliverPolicy.All
    // explicitly breaks it on nats-server 2.9: nats.js also sets opt_start_seq, and the
    // server refuses the pair.)
    const consumer = await nc.jetstream().consumers.get(STREAM_NAME);
    const batch = await consumer.fetch({ max_messages: info.state.messages, expires: 3_000 });
    for await (const msg of batch) subjects.push(msg.subject);
  }
  await nc.close();
  return subjects;
}

function logSink(): { destination: Writable; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { destination, lines };
}

function emitOptions<N extends EventName>(name: N) {
  return {
    service: SERVICE,
    data: EVENTS[name].example as never,
    ...(EVENTS[name].deploymentId === "none" ? {} : { deploymentId: DEPLOYMENT }),
  };
}

describe("anonymous and wrong credentials", () => {
  it("refuses a client without credentials", async () => {
    await expect(connectAs(undefined)).rejects.toMatchObject({ code: "AUTHORIZATION_VIOLATION" });
  });

  it("refuses a known user with a wrong password", async () => {
    await expect(connectAs(Role.ci, "not-the-password")).rejects.toMatchObject({
      code: "AUTHORIZATION_VIOLATION",
    });
  });
});

describe("before anything exists", () => {
  it("an agent that may not create the stream fails to start, with the reason", async () => {
    const logs = logSink();
    const started = Date.now();
    await expect(
      runAgent({
        role: "switcher",
        config: {
          role: "switcher",
          agent_id: "switcher-early",
          nats: { servers: [server.url], user: Role.switcher, pass: TEST_USERS.switcher.pass },
          services: [SERVICE],
        },
        logDestination: logs.destination,
        exitOnShutdown: false,
        start: async () => ({ stop: async () => {} }),
      }),
    ).rejects.toMatchObject({
      code: "BG_ERR_NATS_NOT_SET_UP",
      message: expect.stringMatching(
        /^the BLUEGREEN stream does not exist, and this agent's NATS user may not create it: .*permissions violation/i,
      ),
    });
    // It does not hang: the server answers the refused create at once, and nats.js fails it.
    expect(Date.now() - started).toBeLessThan(WAIT_MS);
    await serverLogged(/User "switcher", Subject "\$JS\.API\.STREAM\.CREATE\.BLUEGREEN"/);
  });
});

describe("each agent as its own user", () => {
  const agents: RunningAgent<"coordinator" | "switcher" | "node-agent" | "monitor">[] = [];
  const seen: string[] = [];
  const logs = logSink();

  afterAll(async () => {
    for (const agent of agents.reverse()) await agent.shutdown("test done");
  });

  const nats = (role: Role) => ({
    servers: [server.url],
    user: role,
    pass: TEST_USERS[role].pass,
    stream: { max_age: "90d" },
  });
  const common = (role: Role) => ({
    role,
    agent_id: `${role}-ops`,
    nats: nats(role),
    heartbeat_interval: "1s",
    http: { port: 0 },
  });
  const run = async <R extends "coordinator" | "switcher" | "node-agent" | "monitor">(
    role: R,
    extra: object,
    start: Parameters<typeof runAgent<R>>[0]["start"],
  ) => {
    const agent = await runAgent({
      role,
      config: { ...common(role), ...extra },
      logDestination: logs.destination,
      exitOnShutdown: false,
      start,
    });
    agents.push(agent as RunningAgent<"coordinator" | "switcher" | "node-agent" | "monitor">);
    return agent;
  };

  it("the coordinator creates the stream and every bucket", async () => {
    const nc = await connectAs(Role.coordinator);
    const jsm = await nc.jetstreamManager();
    const created = await ensureStream(jsm, { maxAgeMs: 90 * 86_400_000, replicas: 1 });
    expect(created.action).toBe("created");
    const kv = await ensureBuckets(nc.jetstream(), { replicas: 1 });
    expect(Object.keys(kv).sort()).toEqual(Object.keys(Buckets).sort());
    expect(created.info.config.deny_delete && created.info.config.deny_purge).toBe(true);
  });

  it("the operator applies a definition: a KV write the agents can read", async () => {
    const nc = await connectAs(Role.operator);
    const kv = await nc.jetstream().views.kv(Buckets.services, { bindOnly: true });
    // what `bluegreen apply -f examples/emily/service.yaml` does
    await putDefinition(kv, readFileSync(join(REPO_ROOT, "examples/emily/service.yaml"), "utf8"));
    const bus = new Bus({
      nc,
      role: "cli",
      agentId: "ops",
      logger: createLogger({ level: "silent" }),
    });
    await bus.emit("config.applied", emitOptions("config.applied"));
  });

  it("runs a deployment's events through all four agents, each with only its rights", async () => {
    const earlier = violationLines();
    // Given the four agents, started with runAgent (stream and buckets: INFO only, except the
    // coordinator), each consuming with a durable and writing its own KV bucket
    const coordinator = await run("coordinator", {}, async ({ bus, kv }) => {
      const sub = await bus.consume({
        durable: "coordinator",
        filters: ["smoke", "switch", "monitor"].map((f) => filterSubject({ name: `${f}.*` })),
        expect: ["smoke.passed", "switch.done", "monitor.started"],
        handler: async (event) => {
          seen.push(`coordinator<-${event.type}`);
          await casUpdate(kv.deployments, `${SERVICE}.${DEPLOYMENT}`, () => ({ last: event.type }));
          if (event.type === "bluegreen.smoke.passed")
            await bus.emit("switch.requested", emitOptions("switch.requested"));
          if (event.type === "bluegreen.monitor.started")
            await bus.emit("deploy.succeeded", emitOptions("deploy.succeeded"));
        },
      });
      return { stop: () => sub.stop() };
    });
    await run("node-agent", { serves: [{ service: SERVICE, color: "green" }] }, async (ctx) => {
      const sub = await ctx.bus.consume({
        durable: "node-agent-ops",
        filters: [filterSubject({ name: "deploy.started" })],
        expect: ["deploy.started"],
        handler: async (event) => {
          seen.push(`node-agent<-${event.type}`);
          await ctx.kv.results.put(`${DEPLOYMENT}.green`, new TextEncoder().encode("{}"));
          await ctx.bus.emit("deploy.progress", emitOptions("deploy.progress"));
          await ctx.bus.emit("deploy.ready", emitOptions("deploy.ready"));
          await ctx.bus.emit("smoke.passed", emitOptions("smoke.passed"));
        },
      });
      return { stop: () => sub.stop() };
    });
    await run("switcher", { services: [SERVICE] }, async (ctx) => {
      const sub = await ctx.bus.consume({
        durable: "switcher-ops",
        filters: [filterSubject({ name: "switch.requested" })],
        expect: ["switch.requested"],
        handler: async (event) => {
          seen.push(`switcher<-${event.type}`);
          // The switch fence: compare-and-set on the active-colour record
          await casUpdate(ctx.kv.active, SERVICE, () => ({ color: "green" }));
          await ctx.bus.emit("switch.done", emitOptions("switch.done"));
        },
      });
      return { stop: () => sub.stop() };
    });
    await run("monitor", { services: [SERVICE] }, async (ctx) => {
      const sub = await ctx.bus.consume({
        durable: "monitor-ops",
        filters: [filterSubject({ name: "switch.done" })],
        expect: ["switch.done"],
        handler: async (event) => {
          seen.push(`monitor<-${event.type}`);
          await ctx.kv.watches.put(SERVICE, new TextEncoder().encode("{}"));
          for await (const _ of await ctx.kv.watches.keys()) {
            // listing the watches, as a restarted monitor does
          }
          await ctx.bus.emit("monitor.started", emitOptions("monitor.started"));
        },
      });
      return { stop: () => sub.stop() };
    });

    // When the coordinator starts the deployment
    await coordinator.ctx.bus.emit("deploy.started", emitOptions("deploy.started"));

    // Then every hop is allowed: the stream ends with deploy.succeeded …
    await waitFor(
      () => (seen.includes("coordinator<-bluegreen.monitor.started") ? true : undefined),
      {
        what: "the deployment's events to reach the monitor and come back to the coordinator",
        timeoutMs: WAIT_MS,
      },
    );
    const subjects = await waitFor(
      async () => {
        const all = await streamSubjects();
        return all.includes(eventSubject(SERVICE, "deploy.succeeded")) ? all : undefined;
      },
      { what: "deploy.succeeded in the stream", timeoutMs: WAIT_MS },
    );
    expect(subjects).toEqual(
      expect.arrayContaining(
        (
          [
            "deploy.started",
            "deploy.progress",
            "deploy.ready",
            "smoke.passed",
            "switch.requested",
            "switch.done",
            "monitor.started",
            "deploy.succeeded",
          ] as const
        ).map((name) => eventSubject(SERVICE, name)),
      ),
    );
    // … every agent follows the definition the operator applied (a KV watch) …
    // (a watch delivers asynchronously: under load it may trail the events by a moment)
    await waitFor(
      () =>
        agents.every((a) => a.ctx.definitions.get(SERVICE)?.service === SERVICE) ? true : undefined,
      { what: "every agent to follow the applied definition", timeoutMs: WAIT_MS },
    );
    // … the KV writes landed, the coordinator reads the active colour and every heartbeat …
    const active = await readJson(coordinator.ctx.kv.active, SERVICE);
    expect(active?.value).toEqual({ color: "green" });
    // (the bucket also holds heartbeats of agents started by earlier tests in this file)
    const ids = new Set(agents.map((a) => a.ctx.config.agent_id));
    const beats = (await readHeartbeats(coordinator.ctx.kv.agents)).filter((b) =>
      ids.has(b.data.agentId),
    );
    expect(beats.map((b) => b.data.role).sort()).toEqual(
      ["coordinator", "monitor", "node-agent", "switcher"].sort(),
    );
    // … and nobody was refused anything on the way
    expect(violationLines(earlier)).toEqual([]);
    expect(logs.lines.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  });

  it("an agent whose stream settings differ from the coordinator's cannot start", async () => {
    // ensureStream updates the stream when an agent's nats.stream differs; only the
    // coordinator may: keep nats.stream identical in every agent config (or leave it out).
    await expect(
      runAgent({
        role: "monitor",
        config: {
          ...common(Role.monitor),
          agent_id: "monitor-other-max-age",
          nats: { ...nats(Role.monitor), stream: { max_age: "30d" } },
          services: [SERVICE],
        },
        logDestination: logs.destination,
        exitOnShutdown: false,
        start: async () => ({ stop: async () => {} }),
      }),
    ).rejects.toMatchObject({
      code: "BG_ERR_NATS_NOT_SET_UP",
      message: expect.stringMatching(
        /^the BLUEGREEN stream differs from this agent's nats\.stream \(max_age\), and this agent's NATS user may not update it/,
      ),
    });
    await serverLogged(/User "monitor", Subject "\$JS\.API\.STREAM\.UPDATE\.BLUEGREEN"/);
  });
});

describe("what each role may publish", () => {
  const allEvents = EVENT_NAMES.filter((name) => EVENTS[name].audit);

  // The auditor publishes nothing at all: "the auditor" below.
  it.each(ROLES.filter((r) => r !== Role.auditor))(
    "%s may publish exactly the events contracts name it the producer of",
    async (role) => {
      const allowed = eventsPublishedBy(role);
      expect(allowed.length).toBeGreaterThan(0);
      const refused = await refusedPublishes(
        role,
        allEvents.map((name) => eventSubject(SERVICE, name)),
      );
      const refusedNames = allEvents.filter((name) => refused.has(eventSubject(SERVICE, name)));
      expect(refusedNames.sort()).toEqual(allEvents.filter((n) => !allowed.includes(n)).sort());
    },
  );

  it("every audit event has a role that may publish it", () => {
    const orphans = allEvents.filter((name) =>
      ROLES.every((r) => !eventsPublishedBy(r).includes(name)),
    );
    expect(orphans).toEqual([]);
  });
});

describe("audit checkpoints and the auditor", () => {
  it("the coordinator signs a checkpoint; the auditor reads and verifies the trail, and may change nothing", async () => {
    const keys = writeKeyPair(dir.path);
    const nc = await connectAs(Role.coordinator);
    const bus = new Bus({
      nc,
      role: "coordinator",
      agentId: "coordinator-ops",
      logger: createLogger({ level: "silent" }),
    });
    // (the stream holds the events of the tests above)
    const checkpointer = new Checkpointer({
      bus,
      jsm: await nc.jetstreamManager(),
      key: loadSigningKey(keys.privateKeyFile),
      policy: { every: 1000, intervalMs: 60_000 },
      logger: createLogger({ level: "silent" }),
    });
    const signed = await checkpointer.flush();
    expect(signed?.firstSeq).toBe(1);

    const auditor = await connectAs(Role.auditor);
    const trail = await readTrail(auditor.jetstream(), await auditor.jetstreamManager());
    const report = verifyTrail(trail.messages, loadPublicKey(keys.publicKeyFile), {
      lastSeq: trail.lastSeq,
    });
    expect(report.problems).toEqual([]);
    expect(report.coveredTo).toBe(signed?.lastSeq);

    const forbidden = [
      ...EVENT_NAMES.filter((name) => EVENTS[name].audit).map((name) =>
        eventSubject(SERVICE, name),
      ),
      `$KV.${Buckets.services}.${SERVICE}`,
      `$KV.${Buckets.locks}._leader`,
      `$JS.API.STREAM.DELETE.${STREAM_NAME}`,
      `$JS.API.STREAM.PURGE.${STREAM_NAME}`,
      `$JS.API.STREAM.UPDATE.${STREAM_NAME}`,
      `$JS.API.STREAM.MSG.DELETE.${STREAM_NAME}`,
      `$JS.API.CONSUMER.DELETE.${STREAM_NAME}.coordinator`,
      `$JS.ACK.${STREAM_NAME}.coordinator.1.1.1.1.0`,
    ];
    const refused = await refusedPublishes(Role.auditor, forbidden);
    expect([...refused].sort()).toEqual([...forbidden].sort());
  });
});

describe("the node agent", () => {
  it("cannot request a switch: the server refuses it and nothing reaches the stream", async () => {
    const nc = await connectAs(Role.nodeAgent);
    const bus = new Bus({
      nc,
      role: "node-agent",
      agentId: "rogue",
      logger: createLogger({ level: "silent" }),
      publishRetries: 0,
      publishTimeoutMs: 1_000,
    });
    const before = (await streamSubjects()).length;
    const attempt = bus.emit("switch.requested", emitOptions("switch.requested"));
    await expect(attempt).rejects.toMatchObject({ code: "BG_ERR_NATS_PUBLISH" });
    await serverLogged(/User "node-agent", Subject "bluegreen\.emily\.switch\.requested"/);
    expect(await streamSubjects()).toHaveLength(before);
  });

  it("cannot write the active colour or another role's heartbeat", async () => {
    const refused = await refusedPublishes(Role.nodeAgent, [
      `$KV.${Buckets.active}.${SERVICE}`,
      `$KV.${Buckets.locks}.${SERVICE}`,
      `$KV.${Buckets.agents}.switcher.switcher-ops`,
      `$KV.${Buckets.agents}.node-agent.node-agent-ops`,
    ]);
    expect([...refused].sort()).toEqual(
      [
        `$KV.${Buckets.active}.${SERVICE}`,
        `$KV.${Buckets.agents}.switcher.switcher-ops`,
        `$KV.${Buckets.locks}.${SERVICE}`,
      ].sort(),
    );
  });
});

describe("CI", () => {
  it("publishes deploy.requested to the stream and reads it back", async () => {
    const nc = await connectAs(Role.ci);
    const js = nc.jetstream();
    const bus = new Bus({
      nc,
      role: "ci",
      agentId: "github",
      logger: createLogger({ level: "silent" }),
    });
    const { seq, event } = await bus.emit("deploy.requested", {
      ...emitOptions("deploy.requested"),
      deploymentId: "d-20261126-ci0001",
    });
    expect(seq).toBeGreaterThan(0);
    // reading: an ordered consumer, as `bluegreen deploy --wait` and `bluegreen tail` do
    const consumer = await js.consumers.get(STREAM_NAME, {
      filterSubjects: eventSubject(SERVICE, "deploy.requested"),
    });
    const batch = await consumer.fetch({ max_messages: 10, expires: 2_000 });
    const read: string[] = [];
    for await (const msg of batch) {
      read.push(msg.json<{ id: string }>().id);
      if (read.includes(event.id)) break;
    }
    expect(read).toContain(event.id);
    // reading the deployments bucket, as `bluegreen deploy --id` does before it publishes
    const deployments = await js.views.kv(Buckets.deployments, { bindOnly: true });
    await deployments.status();
    expect(await deployments.get(`${SERVICE}.d-20261126-nosuch`)).toBeNull();
  });

  it("the CloudEvent in docs/ci.md, sent as a plain request with Nats-Msg-Id, is stored once", async () => {
    const doc = readFileSync(join(REPO_ROOT, "docs/ci.md"), "utf8");
    const json = /```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(json, "a ```json block in docs/ci.md").toBeDefined();
    const subject = eventSubject(SERVICE, "deploy.requested");
    const parsed = parseEvent(json as string, { subject });
    expect(parsed.ok, JSON.stringify(parsed.ok ? {} : parsed.issues)).toBe(true);
    // what `nats req <subject> <json> -H Nats-Msg-Id:<id>` does
    const nc = await connectAs(Role.ci);
    const h = headers();
    h.set("Nats-Msg-Id", JSON.parse(json as string).id);
    const send = async () =>
      (await nc.request(subject, json, { headers: h, timeout: 5_000 })).json<{
        stream: string;
        seq: number;
        duplicate?: boolean;
      }>();
    const first = await send();
    expect(first).toMatchObject({ stream: STREAM_NAME });
    expect(first.duplicate).toBeUndefined();
    expect(await send()).toMatchObject({ stream: STREAM_NAME, seq: first.seq, duplicate: true });
  });

  it("reads the stored deployments, as `bluegreen wait <id>` does, but cannot write them", async () => {
    const nc = await connectAs(Role.ci);
    const kv = await nc.jetstream().views.kv(Buckets.deployments, { bindOnly: true });
    await kv.status();
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    for (const key of keys) expect(await kv.get(key)).not.toBeNull();
    const refused = await refusedPublishes(Role.ci, [`$KV.${Buckets.deployments}.${SERVICE}.x`]);
    expect([...refused]).toEqual([`$KV.${Buckets.deployments}.${SERVICE}.x`]);
  });

  it("may do nothing else: no other request, no KV write, no stream or consumer admin, no acks", async () => {
    const forbidden = [
      eventSubject(SERVICE, "deploy.abort_requested"),
      eventSubject(SERVICE, "switch.requested"),
      `$KV.${Buckets.services}.${SERVICE}`,
      `$KV.${Buckets.active}.${SERVICE}`,
      `$KV.${Buckets.deployments}.${SERVICE}.d-20261126-ci0001`,
      `$JS.API.STREAM.DELETE.${STREAM_NAME}`,
      `$JS.API.STREAM.PURGE.${STREAM_NAME}`,
      `$JS.API.STREAM.UPDATE.${STREAM_NAME}`,
      `$JS.API.CONSUMER.DELETE.${STREAM_NAME}.coordinator`,
      `$JS.API.DIRECT.GET.KV_${Buckets.active}.$KV.${Buckets.active}.${SERVICE}`,
      `$JS.ACK.${STREAM_NAME}.coordinator.1.1.1.1.0`,
    ];
    const refused = await refusedPublishes(Role.ci, forbidden);
    expect([...refused].sort()).toEqual([...forbidden].sort());
  });

  it("cannot listen in on the events directly (core subscriptions)", async () => {
    const nc = await connectAs(Role.ci);
    const errors: NatsError[] = [];
    const sub = nc.subscribe("bluegreen.>", {
      callback: (err) => {
        if (err) errors.push(err);
      },
    });
    await nc.flush();
    const [refusal] = await waitFor(() => (errors.length > 0 ? errors : undefined), {
      what: "the subscription to be refused",
      timeoutMs: WAIT_MS,
    });
    expect(refusal?.isPermissionError()).toBe(true);
    expect(refusal?.message).toMatch(/subscription to "bluegreen\.>"/i);
    expect(sub.isClosed()).toBe(true);
  });
});

describe("deploy freezes", () => {
  const freezeKeys = [
    `$KV.${Buckets.locks}._freeze.${SERVICE}`,
    `$KV.${Buckets.locks}._freeze._all`,
  ];

  it("the operator sets and lifts them (KV key and event), but cannot touch a service lock", async () => {
    const subjects = [
      ...freezeKeys,
      "bluegreen._.freeze.set",
      eventSubject(SERVICE, "freeze.lifted"),
      `$KV.${Buckets.locks}.${SERVICE}`,
    ];
    const refused = await refusedPublishes(Role.operator, subjects);
    expect([...refused]).toEqual([`$KV.${Buckets.locks}.${SERVICE}`]);
  });

  it.each(ROLES.filter((r) => r !== Role.operator))("%s may not set or lift one", async (role) => {
    const subjects = [
      ...freezeKeys,
      eventSubject(SERVICE, "freeze.set"),
      eventSubject(SERVICE, "freeze.lifted"),
    ];
    const refused = await refusedPublishes(role, subjects);
    expect([...refused].sort()).toEqual([...subjects].sort());
  });
});

describe("the passwords file", () => {
  it("the example defines exactly the variables the config uses, one per role", () => {
    const used = [...readFileSync(NATS_CONFIG_PATH, "utf8").matchAll(/\$(BG_NATS_\w+)/g)].map(
      (m) => m[1],
    );
    const defined = [
      ...readFileSync(PASSWORDS_EXAMPLE_PATH, "utf8").matchAll(/^(BG_NATS_\w+):/gm),
    ].map((m) => m[1]);
    const perRole = ROLES.map((r) => TEST_USERS[r].variable).sort();
    expect([...new Set(used)].sort()).toEqual(perRole);
    expect(defined.sort()).toEqual(perRole);
  });
});

describe("TLS, as docs/operations.md turns it on", () => {
  let tlsDir: TempDir;
  let tlsServer: NatsServer;

  beforeAll(async () => {
    tlsDir = await makeTempDir("ops-nats-tls");
    const openssl = async (args: string[]) => {
      const r = await runCommand("openssl", args, { cwd: tlsDir.path });
      if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
    };
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await openssl(
      ["req", "-x509", ...ec, "-days", "2", "-keyout", "ca.key", "-out", "ca.crt"].concat([
        "-subj",
        "/CN=bluegreen test CA",
      ]),
    );
    await openssl(
      ["req", ...ec, "-keyout", "server.key", "-out", "server.csr"].concat([
        "-subj",
        "/CN=nats.internal",
      ]),
    );
    writeFileSync(tlsDir.file("san.ext"), "subjectAltName=DNS:nats.internal,IP:127.0.0.1\n");
    await openssl(
      ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key"].concat([
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
      ]),
    );
    const config = withTls(runnableConfig(tlsDir), {
      "/etc/nats/tls/server.crt": tlsDir.file("server.crt"),
      "/etc/nats/tls/server.key": tlsDir.file("server.key"),
      "/etc/nats/tls/ca.crt": tlsDir.file("ca.crt"),
    });
    tlsServer = await startNats({ config, allowExternal: false });
  });

  afterAll(async () => {
    await tlsServer?.stop();
    await tlsDir?.remove();
  });

  it("an agent with nats.tls.ca_file (and server_name) connects over TLS", async () => {
    // The agent config's nats section, as runtime turns it into connection options; the
    // certificate names nats.internal, the test connects to 127.0.0.1.
    const options = await connectionOptions(
      {
        servers: [`tls://127.0.0.1:${tlsServer.port}`],
        user: Role.ci,
        pass: TEST_USERS.ci.pass,
        tls: { ca_file: tlsDir.file("ca.crt"), server_name: "nats.internal" },
      },
      { name: "ops-tls" },
    );
    const nc = await connect({ ...options, waitOnFirstConnect: false, maxReconnectAttempts: 0 });
    open.push(nc);
    expect(nc.info?.tls_required).toBe(true);
    await nc.flush();
    await nc.close();
  });

  it("a client that does not trust the CA is refused", async () => {
    await expect(
      connect({
        servers: [`127.0.0.1:${tlsServer.port}`],
        user: Role.ci,
        pass: TEST_USERS.ci.pass,
        maxReconnectAttempts: 0,
        timeout: 3_000,
      }),
    ).rejects.toThrow();
  });
});
