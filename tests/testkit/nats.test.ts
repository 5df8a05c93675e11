import { existsSync } from "node:fs";
import {
  isProcessAlive,
  processGroupMembers,
  startNats,
  startNatsCluster,
  waitFor,
} from "@bluegreen/testkit";
import { AckPolicy, connect, type NatsConnection, StringCodec } from "nats";
import { afterEach, describe, expect, it } from "vitest";

const sc = StringCodec();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function expectGone(pid: number) {
  expect(isProcessAlive(pid)).toBe(false);
  expect(processGroupMembers(pid)).toEqual([]);
}

async function client(servers: string[]): Promise<NatsConnection> {
  const nc = await connect({ servers, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  cleanups.push(() => nc.close());
  return nc;
}

describe("startNats", () => {
  it("given a JetStream server, a published message can be consumed", async () => {
    const server = await startNats({ allowExternal: false });
    cleanups.push(() => server.stop());
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    const nc = await client([server.url]);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
    const js = nc.jetstream();
    const ack = await js.publish("orders.1", sc.encode("first"), { msgID: "m-1" });
    expect(ack.seq).toBe(1);
    expect((await js.publish("orders.1", sc.encode("first"), { msgID: "m-1" })).duplicate).toBe(
      true,
    );

    await jsm.consumers.add("ORDERS", { durable_name: "reader", ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get("ORDERS", "reader");
    const message = await consumer.next({ expires: 2_000 });
    expect(message === null ? null : sc.decode(message.data)).toBe("first");
    message?.ack();

    const pid = server.process?.pid as number;
    await nc.close();
    await server.stop();
    expectGone(pid);
  });

  it("keeps the stream and the consumer across a restart and a crash, on the same port", async () => {
    const server = await startNats({ allowExternal: false });
    cleanups.push(() => server.stop());
    const port = server.port;
    const nc = await client([server.url]);
    // Short API timeouts: a request sent just before a crash is retried instead of awaited 5 s.
    const jsm = await nc.jetstreamManager({ timeout: 1_000 });
    await jsm.streams.add({ name: "EVENTS", subjects: ["events.>"] });
    await jsm.consumers.add("EVENTS", { durable_name: "tail", ack_policy: AckPolicy.Explicit });
    const js = nc.jetstream();
    for (const n of [1, 2, 3]) await js.publish(`events.${n}`, sc.encode(`event ${n}`));
    const first = await (await js.consumers.get("EVENTS", "tail")).next({ expires: 2_000 });
    await first?.ackAck();

    const firstPid = server.process?.pid as number;
    await server.restart();
    expectGone(firstPid);
    expect(server.port).toBe(port);

    const crashedPid = server.process?.pid as number;
    await server.kill("SIGKILL");
    expectGone(crashedPid);
    await server.restart();

    // The client reconnects to the same URL by itself. After a crash the server recovers its
    // store before JetStream answers: seconds on a loaded machine (10 s was once too short).
    const info = await waitFor(() => jsm.streams.info("EVENTS"), {
      what: "the stream after the restart",
      timeoutMs: 30_000,
    });
    expect(info.state.messages).toBe(3);
    const consumer = await js.consumers.get("EVENTS", "tail");
    const next = await consumer.next({ expires: 2_000 });
    expect(next === null ? null : sc.decode(next.data)).toBe("event 2");
  });

  it("uses the server named by BLUEGREEN_TEST_NATS_URL and leaves it running", async () => {
    const real = await startNats({ allowExternal: false });
    cleanups.push(() => real.stop());
    process.env.BLUEGREEN_TEST_NATS_URL = real.url;
    try {
      const external = await startNats();
      expect(external.kind).toBe("external");
      expect(external.url).toBe(real.url);
      expect(external.port).toBe(real.port);
      await external.stop();
      await expect(external.restart()).rejects.toThrow(/not supported/);
    } finally {
      delete process.env.BLUEGREEN_TEST_NATS_URL;
    }
    expect(isProcessAlive(real.process?.pid as number)).toBe(true);
  });
});

const noDocker = !existsSync("/var/run/docker.sock") && process.env.DOCKER_HOST === undefined;

describe("startNats with BLUEGREEN_TEST_DOCKER=1", () => {
  it.runIf(noDocker)("says that no container runtime is reachable", async () => {
    process.env.BLUEGREEN_TEST_DOCKER = "1";
    try {
      await expect(startNats()).rejects.toThrow(
        /BLUEGREEN_TEST_DOCKER=1 but the NATS container \(nats:2\.9\) did not start/,
      );
    } finally {
      delete process.env.BLUEGREEN_TEST_DOCKER;
    }
  });
});

describe("startNatsCluster", () => {
  it("given three nodes and an R3 stream, publishing survives the loss of the stream leader, which rejoins", async () => {
    const cluster = await startNatsCluster({ size: 3 });
    cleanups.push(() => cluster.stop());
    expect(cluster.urls).toHaveLength(3);
    const nc = await client([...cluster.urls]);
    const jsm = await nc.jetstreamManager();
    const stream = await jsm.streams.add({ name: "AUDIT", subjects: ["audit.>"], num_replicas: 3 });
    expect(stream.config.num_replicas).toBe(3);
    const js = nc.jetstream();
    await js.publish("audit.a", sc.encode("before"));

    const leader = (await jsm.streams.info("AUDIT")).cluster?.leader;
    const index = cluster.servers.findIndex((s) => s.name === leader);
    expect(index).toBeGreaterThanOrEqual(0);
    const pid = cluster.servers[index]?.process?.pid as number;
    await cluster.kill(index);
    expectGone(pid);

    const ack = await waitFor(() => js.publish("audit.a", sc.encode("after"), { timeout: 1_000 }), {
      what: "a publish to the R3 stream with one node down",
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    expect(ack.seq).toBe(2);
    const info = await jsm.streams.info("AUDIT");
    expect(info.state.messages).toBe(2);
    expect(info.cluster?.leader).not.toBe(leader);

    await cluster.restart(index);
    expect(cluster.servers[index]?.process?.pid).not.toBe(pid);
    await waitFor(
      async () => {
        const replicas = (await jsm.streams.info("AUDIT")).cluster?.replicas ?? [];
        return replicas.length === 2 && replicas.every((r) => r.current) ? true : undefined;
      },
      { what: `${leader} to catch up as a replica`, timeoutMs: 15_000, intervalMs: 200 },
    );

    const pids = cluster.servers.map((s) => s.process?.pid as number);
    await nc.close();
    await cluster.stop();
    for (const p of pids) expectGone(p);
  });
});
