// TLS between the agents and NATS. The test makes its own CA with openssl (a temp dir): a
// server certificate for 127.0.0.1/localhost, one for another name, and a second CA that
// signed nothing the server presents. Given nats-server requiring TLS, an agent that trusts
// the CA connects and works; one facing a certificate for another name, or signed by a CA it
// does not trust, never reaches running.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createEvent, eventSubject } from "@bluegreen/contracts";
import { connectNats, createLogger } from "@bluegreen/runtime";
import {
  makeTempDir,
  type NatsServer,
  promotedData,
  startNats,
  type TempDir,
  waitFor,
} from "@bluegreen/testkit";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, launchAgent } from "./agents.ts";
import { EventTap } from "./tap.ts";

const run = promisify(execFile);

let dir: TempDir;
const servers: NatsServer[] = [];
const agents: AgentProcess[] = [];

async function openssl(...args: string[]): Promise<void> {
  await run("openssl", args, { cwd: dir.path });
}

/** `openssl req` arguments that make a new key `<name>.key` and write `out`. */
function newKeyRequest(name: string, out: string): string[] {
  return ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", out];
}

/** A CA (`<name>.pem`, `<name>.key`). */
async function makeCa(name: string): Promise<void> {
  await openssl(
    ...newKeyRequest(name, `${name}.pem`),
    "-x509",
    "-days",
    "1",
    "-subj",
    `/CN=bluegreen ${name}`,
  );
}

/** A certificate for `altNames` signed by `ca`. */
async function makeCert(name: string, ca: string, altNames: string): Promise<void> {
  await openssl(...newKeyRequest(name, `${name}.csr`), "-subj", `/CN=${name}`);
  const { writeFile } = await import("node:fs/promises");
  await writeFile(dir.file(`${name}.ext`), `subjectAltName=${altNames}\n`);
  const signed = ["-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial"];
  await openssl(
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    ...signed,
    "-out",
    `${name}.pem`,
    "-days",
    "1",
    "-extfile",
    `${name}.ext`,
  );
}

async function tlsServer(cert: string): Promise<NatsServer> {
  const server = await startNats({
    jetstream: true,
    config: `tls {\n  cert_file: "${dir.file(`${cert}.pem`)}"\n  key_file: "${dir.file(`${cert}.key`)}"\n}\n`,
    allowExternal: false,
  });
  servers.push(server);
  return server;
}

async function monitorOver(
  server: NatsServer,
  agentId: string,
  tls: Record<string, string>,
  waitRunning = true,
): Promise<AgentProcess> {
  const agent = await launchAgent({
    role: "monitor",
    agentId,
    dir,
    nats: { servers: [server.url], tls },
    settings: { services: ["*"] },
    waitRunning,
  });
  agents.push(agent);
  return agent;
}

/**
 * Waits until the server has refused the agent's TLS handshake `times` times (the agent keeps
 * retrying), then says whether the agent ever reached running meanwhile.
 */
async function refusedTwice(server: NatsServer, agent: AgentProcess, times = 2): Promise<boolean> {
  let running = false;
  const off = agent.process.onLine((l) => {
    if (l.includes('"to":"running"')) running = true;
  });
  try {
    await waitFor(
      () => {
        const text = server.process?.output.text() ?? "";
        return text.split("TLS handshake error").length - 1 >= times ? true : undefined;
      },
      { what: `${times} refused TLS handshakes in the server's log`, timeoutMs: 30_000 },
    );
  } finally {
    off();
  }
  return !running && !agent.lines.some((l) => l.includes('"to":"running"'));
}

/** Starts the monitor over `tls`, and expects the server to refuse it and it never to connect. */
async function expectRefused(
  server: NatsServer,
  agentId: string,
  tls: Record<string, string>,
): Promise<AgentProcess> {
  const refused = await monitorOver(server, agentId, tls, false);
  expect(await refusedTwice(server, refused)).toBe(true);
  expect(refused.lines.some((l) => l.includes('"msg":"nats connected"'))).toBe(false);
  return refused;
}

beforeAll(async () => {
  dir = await makeTempDir("chaos-tls");
  await makeCa("ca");
  await makeCa("rogue-ca");
  await Promise.all([
    makeCert("server", "ca", "IP:127.0.0.1,DNS:localhost"),
    makeCert("other-name", "ca", "DNS:other.example"),
    makeCert("rogue", "rogue-ca", "IP:127.0.0.1,DNS:localhost"),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(agents.map((a) => a.stop()));
  await Promise.allSettled(servers.map((s) => s.stop()));
  await dir?.remove();
});

describe("chaos: TLS to NATS with a CA made by the test", () => {
  it("given nats-server with a certificate for 127.0.0.1 signed by the test CA, when runtime's connectNats trusts that CA, then it connects over TLS", async () => {
    const server = await tlsServer("server");
    const nc = await connectNats(
      { servers: [server.url], tls: { ca_file: dir.file("ca.pem") } },
      { name: "chaos-tls", logger: createLogger({ level: "silent" }) },
    );
    try {
      expect(nc.info?.tls_required).toBe(true);
      // A request answered over that connection: the TLS session carries messages both ways.
      const echo = nc.subscribe("chaos.tls.echo", {
        callback: (_e, msg) => msg.respond(new TextEncoder().encode(`echo ${msg.string()}`)),
      });
      const reply = await nc.request("chaos.tls.echo", new TextEncoder().encode("hello"), {
        timeout: 5_000,
      });
      expect(reply.string()).toBe("echo hello");
      echo.unsubscribe();
    } finally {
      await nc.close();
    }
  });

  it("given that server, when the monitor agent trusts the CA, then it reaches running, is healthy and answers a bad payload over TLS", async () => {
    const server = servers[0] as NatsServer;
    const agent = await monitorOver(server, "monitor-tls", { ca_file: dir.file("ca.pem") });
    expect(await agent.healthz()).toBe(200);
    const nc: NatsConnection = await connect({
      servers: server.url,
      tls: { caFile: dir.file("ca.pem") },
    });
    try {
      const tap = new EventTap(nc, "never-");
      await nc.flush();
      const bad = createEvent("switch.done", {
        service: "tls-app",
        source: "bluegreen/test/chaos",
        deploymentId: "d-tls-1",
        data: promotedData(),
      });
      // The wrong specversion: the monitor must answer it with a coded rejection.
      const text = JSON.stringify(bad).replace('"specversion":"1.0"', '"specversion":"0.3"');
      await nc.jetstream().publish(eventSubject("tls-app", "switch.done"), text);
      const rejected = await tap.wait("agent.rejected", (e) => e.data.originalId === bad.id);
      expect(rejected.data).toMatchObject({
        code: "BG_ERR_EVENT_SPECVERSION",
        rejectedBy: agent.rejectedBy,
      });
      tap.stop();
    } finally {
      await nc.close();
    }
  }, 40_000);

  it("given a server presenting a certificate for another name, when the agent trusts the CA but expects 127.0.0.1, then it never reaches running; naming that server (tls.server_name) lets it in", async () => {
    const server = await tlsServer("other-name");
    const refused = await expectRefused(server, "monitor-wrong-name", {
      ca_file: dir.file("ca.pem"),
    });
    expect(refused.process.running).toBe(true);
    expect(refused.lines.some((l) => l.includes('"msg":"http listening"'))).toBe(false);
    await refused.stop();

    const named = await monitorOver(server, "monitor-server-name", {
      ca_file: dir.file("ca.pem"),
      server_name: "other.example",
    });
    expect(await named.healthz()).toBe(200);
  }, 40_000);

  it("given a server whose certificate a different CA signed, when the agent trusts only the test CA, then it never reaches running", async () => {
    const server = await tlsServer("rogue");
    const refused = await expectRefused(server, "monitor-rogue-ca", {
      ca_file: dir.file("ca.pem"),
    });
    await refused.stop();

    // The same agent trusting the CA that did sign it connects: the refusal was the CA.
    const trusting = await monitorOver(server, "monitor-rogue-trusted", {
      ca_file: dir.file("rogue-ca.pem"),
    });
    expect(await trusting.healthz()).toBe(200);
  }, 40_000);
});
