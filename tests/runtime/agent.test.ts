// Given a nats-server that requires a password, when an agent starts through runAgent, then it
// connects, heartbeats, follows service definitions, serves /healthz, shuts down cleanly, and
// never writes its secrets to the log.

import { writeFileSync } from "node:fs";
import { BgError, Buckets, parseEvent } from "@bluegreen/contracts";
import { putDefinition, type RunningAgent, readHeartbeats, runAgent } from "@bluegreen/runtime";
import { makeTempDir, type NatsServer, startNats, type TempDir } from "@bluegreen/testkit";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogs, definitionYaml, eventually } from "./helpers.ts";

const PASSWORD = "pw-9f8e7d6c5b4a-very-secret";
const WRONG = "pw-wrong-0011-also-secret";

let server: NatsServer;
let admin: NatsConnection;
let dir: TempDir;
beforeAll(async () => {
  server = await startNats({
    jetstream: true,
    config: `authorization { user: bg, password: "${PASSWORD}" }\n`,
  });
  admin = await connect({ servers: [server.url], user: "bg", pass: PASSWORD });
  dir = await makeTempDir("runtime-agent");
});
afterAll(async () => {
  await admin?.close();
  await server?.stop();
  await dir?.remove();
});

const agentConfig = (pass: string) => `role: switcher
agent_id: switcher-test
nats:
  servers: ["${server.url}"]
  user: bg
  pass: "${pass}"
  stream: { max_age: 1h }
http: { port: 0 }
log: { level: trace }
heartbeat_interval: 200ms
services: [emily]
`;

describe("runAgent", () => {
  let agent: RunningAgent<"switcher">;
  const logs = captureLogs("trace");
  let stopped = false;

  it("starts: connects, creates the stream and buckets, serves /healthz, heartbeats", async () => {
    const path = dir.file("switcher.yaml");
    writeFileSync(path, agentConfig(PASSWORD));
    agent = await runAgent({
      role: "switcher",
      configPath: path,
      version: "0.1.0-test",
      logDestination: logs.destination,
      exitOnShutdown: false,
      start: async (ctx) => {
        ctx.logger.info({ config: ctx.config }, "switcher config");
        return {
          stop: async () => {
            stopped = true;
          },
          heartbeat: () => ({ services: ["emily"] }),
        };
      },
    });
    expect(agent.ctx.lifecycle.state).toBe("running");
    const health = await fetch(`${agent.http.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      ok: true,
      state: "running",
      nats: { connected: true },
    });

    const kv = await admin.jetstream().views.kv(Buckets.agents, { bindOnly: true });
    const [beat] = await eventually("a heartbeat in KV", async () => {
      const found = await readHeartbeats(kv);
      return found.length > 0 ? found : undefined;
    });
    expect(beat?.source).toBe("bluegreen/switcher/switcher-test");
    expect(beat?.data).toMatchObject({
      role: "switcher",
      agentId: "switcher-test",
      state: "running",
      services: ["emily"],
      version: "0.1.0-test",
      intervalMs: 200,
    });
  });

  it("follows service definitions and keeps the last good one when a new one is broken", async () => {
    const services = await admin.jetstream().views.kv(Buckets.services, { bindOnly: true });
    const applied = await putDefinition(services, definitionYaml("emily", 8000), {
      source: "emily.yaml",
    });
    await eventually("emily to be loaded", () => agent.ctx.definitions.get("emily"));
    expect(agent.ctx.definitions.entry("emily")?.sha256).toBe(applied.sha256);

    // A broken revision written behind `apply`'s back (apply itself refuses it).
    await expect(
      putDefinition(services, definitionYaml("emily").replace("port: 8000", 'port: "x"')),
    ).rejects.toBeInstanceOf(BgError);
    await services.put("emily", new TextEncoder().encode("service: emily\nnodes: nope\n"));
    await eventually("the broken revision to be reported", () =>
      logs.records().find((r) => String(r.msg).includes("keeping the last good one")),
    );
    expect(agent.ctx.definitions.get("emily")?.nodes.blue[0]?.port).toBe(8000);

    await putDefinition(services, definitionYaml("emily", 9000));
    await eventually("the new good revision", () =>
      agent.ctx.definitions.get("emily")?.nodes.blue[0]?.port === 9000 ? true : undefined,
    );
    expect(agent.ctx.definitions.list().map((e) => e.service)).toEqual(["emily"]);
  });

  it("publishes as the agent through its bus", async () => {
    const { event } = await agent.ctx.bus.emit("config.applied", {
      service: "emily",
      data: { revision: 1, sha256: "a".repeat(64) },
    });
    const jsm = await admin.jetstreamManager();
    const stored = await jsm.streams.getMessage("BLUEGREEN", {
      last_by_subj: "bluegreen.emily.config.applied",
    });
    const parsed = parseEvent(stored.data);
    expect(parsed.ok && parsed.event.id).toBe(event.id);
  });

  it("shuts down: the agent stops, the last heartbeat says stopped, exit code 0", async () => {
    expect(await agent.shutdown("test")).toBe(0);
    expect(stopped).toBe(true);
    expect(agent.ctx.lifecycle.state).toBe("stopped");
    expect(agent.ctx.nc.isClosed()).toBe(true);
    await expect(fetch(`${agent.http.url}/healthz`)).rejects.toThrow();
    const kv = await admin.jetstream().views.kv(Buckets.agents, { bindOnly: true });
    const [beat] = await readHeartbeats(kv);
    expect(beat?.data.state).toBe("stopped");
    const transitions = logs.records().filter((r) => r.msg === "lifecycle transition");
    expect(transitions.map((r) => r.to)).toEqual(["starting", "running", "stopping", "stopped"]);
  });

  it("never writes the password to the log, even when it logs its config", () => {
    expect(logs.lines.length).toBeGreaterThan(10);
    expect(logs.text()).not.toContain(PASSWORD);
    expect(logs.text()).toContain("[redacted]");
  });
});

describe("runAgent failures", () => {
  it("with a wrong password fails with BG_ERR_NATS_CONNECT and does not log the password", async () => {
    const logs = captureLogs("trace");
    const failure = await runAgent({
      role: "switcher",
      config: agentConfig(WRONG),
      logDestination: logs.destination,
      exitOnShutdown: false,
      start: async () => ({ stop: async () => undefined }),
    }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(BgError);
    expect((failure as BgError).code).toBe("BG_ERR_NATS_CONNECT");
    expect((failure as BgError).message).not.toContain(WRONG);
    expect(logs.text()).not.toContain(WRONG);
    expect(logs.records().some((r) => r.msg === "agent failed to start")).toBe(true);
  });

  it("with another role's config fails with BG_ERR_CONFIG_INVALID", async () => {
    const failure = await runAgent({
      role: "monitor",
      config: agentConfig(PASSWORD),
      start: async () => ({ stop: async () => undefined }),
    }).catch((err: unknown) => err);
    expect((failure as BgError).code).toBe("BG_ERR_CONFIG_INVALID");
    expect((failure as BgError).message).toContain("role: expected 'monitor', got 'switcher'");
  });
});
