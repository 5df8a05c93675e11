// Per-host NATS identities: `bluegreen nats-config` renders one user per node agent from the
// stored definitions and the agents' heartbeats; a real nats-server runs what it printed.
// With the credentials of emily's green node agent, publishing a node event for emily goes
// through; for another service (or a switch request, or another agent's heartbeat) the
// server refuses it.

import { createEvent, encodeEvent, NO_SERVICE } from "@bluegreen/contracts";
import { ensureBuckets, ensureStream, putDefinition } from "@bluegreen/runtime";
import { bluegreen, type NatsServer, startNats } from "@bluegreen/testkit";
import { connect, Events, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let store: NatsServer;
let server: NatsServer;
let nc: NatsConnection;
let rendered: string;
const violations: string[] = [];

const definition = (service: string, port: number) =>
  JSON.stringify({
    service,
    nodes: {
      blue: { host: "10.0.0.10", port },
      green: { host: "10.0.0.11", port },
    },
    deploy: { workdir: "/srv/app", steps: [["true"]] },
    traffic: {
      upstream: `${service}_active`,
      file: `/tmp/${service}.conf`,
      verify: { url: "http://127.0.0.1:1/" },
    },
    monitor: {
      source: { scrape: true },
      slos: [{ name: "e", scrape: { errorRatio: {} }, max: 0.05 }],
    },
  });

beforeAll(async () => {
  // Given: the stored definitions of emily and shop, and a heartbeat from each green agent.
  store = await startNats({ jetstream: true });
  const setup = await connect({ servers: store.url });
  await ensureStream(await setup.jetstreamManager(), { maxAgeMs: 0, replicas: 1 });
  const kv = await ensureBuckets(setup.jetstream(), { replicas: 1 });
  await putDefinition(kv.services, definition("emily", 8000));
  await putDefinition(kv.services, definition("shop", 9000));
  for (const [agentId, service] of [
    ["node-agent-emily-green", "emily"],
    ["node-agent-shop-green", "shop"],
  ] as const) {
    const beat = createEvent("agent.heartbeat", {
      service: NO_SERVICE,
      source: `bluegreen/node-agent/${agentId}`,
      data: {
        role: "node-agent",
        agentId,
        host: "test",
        pid: 1,
        version: "0.1.0",
        state: "running",
        startedAt: new Date().toISOString(),
        intervalMs: 5_000,
        services: [service],
        color: "green",
      },
    });
    await kv.agents.put(`node-agent.${agentId}`, encodeEvent(beat));
  }
  await setup.close();
  const printed = await bluegreen(store.url, ["nats-config"]);
  expect(printed.code, printed.stderr).toBe(0);
  rendered = printed.stdout;

  // And: a nats-server running what it printed, with a password per user.
  server = await startNats({
    allowExternal: false,
    config: [
      'BG_NATS_NODE_AGENT_EMILY_GREEN_PASS = "pw-emily"',
      'BG_NATS_NODE_AGENT_SHOP_GREEN_PASS = "pw-shop"',
      rendered,
      "authorization { users: $NODE_AGENT_USERS }",
    ].join("\n"),
  });
  nc = await connect({ servers: server.url, user: "node-agent-emily-green", pass: "pw-emily" });
  void (async () => {
    for await (const s of nc.status()) if (s.type === Events.Error) violations.push(String(s.data));
  })();
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await server?.stop();
  await store?.stop();
});

/**
 * Publishes, then waits for the server's answer to a ping (and a moment): a refusal of this
 * publish (the server's `-ERR 'Permissions Violation for Publish to …'`, reported by the
 * client as PERMISSIONS_VIOLATION) has come by then.
 */
async function publish(subject: string): Promise<string[]> {
  const before = violations.length;
  nc.publish(subject, "{}");
  await nc.flush();
  await new Promise((r) => setTimeout(r, 200));
  return violations.slice(before);
}

describe("bluegreen nats-config: one NATS user per node agent", () => {
  it("renders a user per node agent, its services' node events only", () => {
    expect(rendered).toContain('"bluegreen.emily.smoke.passed"');
    expect(rendered).toContain('"bluegreen.shop.smoke.passed"');
    expect(rendered).toContain(
      '{ user: "node-agent-emily-green", password: $BG_NATS_NODE_AGENT_EMILY_GREEN_PASS',
    );
    expect(rendered).not.toContain("bluegreen.*.");
  });

  it("emily's green node agent may publish emily's node events", async () => {
    expect(await publish("bluegreen.emily.smoke.passed")).toEqual([]);
    expect(await publish("bluegreen.emily.deploy.progress")).toEqual([]);
    expect(await publish("$KV.bluegreen_agents.node-agent.node-agent-emily-green")).toEqual([]);
  });

  it("publishing a node event for another service is refused by NATS", async () => {
    expect(await publish("bluegreen.shop.smoke.passed")).toEqual(["PERMISSIONS_VIOLATION"]);
  });

  it("it may not request a switch, nor write another agent's heartbeat", async () => {
    expect(await publish("bluegreen.emily.switch.requested")).toEqual(["PERMISSIONS_VIOLATION"]);
    expect(await publish("$KV.bluegreen_agents.node-agent.node-agent-shop-green")).toEqual([
      "PERMISSIONS_VIOLATION",
    ]);
  });
});
