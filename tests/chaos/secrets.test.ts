// Secrets never reach logs or events. Given a nats-server with user/password auth, an sshd
// that only takes a key whose file is encrypted with a passphrase, and a Prometheus queried
// with an Authorization header, when the node agent deploys over SSH and the monitor watches
// through Prometheus (behind an nginx that answers 401 to any query without that header, so
// a check only passes when the header went with it), both logging at trace, then none of the three secrets appears in
// anything they printed (stdout, stderr) nor in any message that crossed NATS (the stream,
// KV heartbeats and watches, everything on `>`).

import { execFile } from "node:child_process";
import { chmod, copyFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { createEvent, STREAM_NAME } from "@bluegreen/contracts";
import { ensureBuckets, ensureStream, putDefinition } from "@bluegreen/runtime";
import {
  makeTempDir,
  type NatsServer,
  type Nginx,
  type Prometheus,
  promotedData,
  publishEvent,
  type SampleAppHandle,
  type Sshd,
  startApiTraffic,
  startedData,
  startNats,
  startNginx,
  startPrometheus,
  startSampleApp,
  startSshd,
  type TempDir,
} from "@bluegreen/testkit";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, launchAgent } from "./agents.ts";
import { EventTap } from "./tap.ts";

const run = promisify(execFile);
const SERVICE = "sec-app";
const NATS_USER = "bluegreen";
const NATS_PASSWORD = "nats-Pa55word-7f3a9c1e";
const SSH_PASSPHRASE = "ssh-Pa55phrase-5b2d8e44";
const PROM_TOKEN = "prom-Bearer-Token-0c6e1f92";
/** A wrong passphrase is a secret too: error paths are where secrets leak. */
const WRONG_PASSPHRASE = "ssh-Wr0ng-Pa55phrase-a1b2c3d4";
const SECRETS = { NATS_PASSWORD, SSH_PASSPHRASE, PROM_TOKEN, WRONG_PASSPHRASE };

let dir: TempDir;
let nats: NatsServer;
let sshd: Sshd;
let app: SampleAppHandle;
let prometheus: Prometheus;
/** Prometheus as the monitor reaches it: only with the Authorization header. */
let gate: Nginx;
let nc: NatsConnection;
let tap: EventTap;
let nodeAgent: AgentProcess;
let monitor: AgentProcess;
let wrongKeyAgent: AgentProcess;
/** Every message that crossed the server, as text. */
const wire: string[] = [];

beforeAll(async () => {
  [dir, sshd, app] = await Promise.all([
    makeTempDir("chaos-secrets"),
    startSshd(),
    startSampleApp({ color: "green", version: "v1.0" }),
  ]);
  [nats, prometheus] = await Promise.all([
    startNats({
      jetstream: true,
      allowExternal: false,
      config: `authorization {\n  users = [ { user: "${NATS_USER}", password: "${NATS_PASSWORD}" } ]\n}\n`,
    }),
    startPrometheus({ scrapeTargets: [app.instance] }),
  ]);
  gate = await startNginx({
    siteConfig: ({ host, port }) => `server {
  listen ${host}:${port};
  location / {
    if ($http_authorization != "Bearer ${PROM_TOKEN}") { return 401; }
    proxy_pass ${prometheus.url};
  }
}
`,
  });
  nc = await connect({ servers: nats.url, user: NATS_USER, pass: NATS_PASSWORD });
  const everything = nc.subscribe(">");
  void (async () => {
    for await (const m of everything) wire.push(`${m.subject} ${m.string()}`);
  })();
  await ensureStream(await nc.jetstreamManager(), { maxAgeMs: 0, replicas: 1 });
  const kv = await ensureBuckets(nc.jetstream(), { replicas: 1 });
  tap = new EventTap(nc, "never-");

  // The sshd's client key, encrypted with a passphrase (same key pair, so still authorized).
  const keyPath = dir.file("id_ed25519_encrypted");
  await copyFile(sshd.clientKeyPath, keyPath);
  await chmod(keyPath, 0o600);
  await run("ssh-keygen", ["-q", "-p", "-P", "", "-N", SSH_PASSPHRASE, "-f", keyPath]);
  const passFile = dir.file("nats.pass");
  await writeFile(passFile, `${NATS_PASSWORD}\n`, { mode: 0o600 });

  const definition = (service: string) =>
    JSON.stringify({
      service,
      nodes: {
        blue: { host: "127.0.0.1", port: 1, ssh: { port: sshd.port } },
        green: { host: app.host, port: app.port, ssh: { port: sshd.port } },
      },
      deploy: { executor: "ssh", workdir: dir.path, steps: [["true"]], timeout: "30s" },
      readiness: { path: "/health", interval: "100ms", timeout: "10s" },
      smoke: [],
      traffic: {
        upstream: "sec_active",
        file: dir.file("active.conf"),
        verify: { url: "http://127.0.0.1:1/health" },
      },
      monitor: {
        window: "3s",
        interval: "1s",
        source: { prometheus: gate.url, auth_header_env: "BG_PROM_AUTH", timeout: "2s" },
        slos: [
          {
            name: "error-ratio",
            query: `(sum(rate(http_requests_total{instance="\${instance}",status=~"5.."}[5s])) or vector(0)) / sum(rate(http_requests_total{instance="\${instance}"}[5s]))`,
            max: 0.05,
            on_breach: "warn",
          },
        ],
        inconclusive: { limit: 10, on_limit: "warn" },
      },
    });
  await putDefinition(kv.services, definition(SERVICE));
  await putDefinition(kv.services, definition(`${SERVICE}-2`));
  const env = {
    ...process.env,
    BG_SSH_PASS: SSH_PASSPHRASE,
    BG_PROM_AUTH: `Bearer ${PROM_TOKEN}`,
  };
  const ssh = {
    user: sshd.user,
    key_file: keyPath,
    passphrase_env: "BG_SSH_PASS",
    known_hosts_file: sshd.knownHostsPath,
  };
  [nodeAgent, wrongKeyAgent, monitor] = await Promise.all([
    launchAgent({
      role: "node-agent",
      agentId: "node-agent-secrets",
      dir,
      logLevel: "trace",
      env,
      nats: { servers: [nats.url], user: NATS_USER, pass_file: passFile },
      settings: {
        serves: [{ service: SERVICE, color: "green" }],
        ssh,
      },
    }),
    launchAgent({
      role: "node-agent",
      agentId: "node-agent-wrong-passphrase",
      dir,
      logLevel: "trace",
      env: { ...env, BG_SSH_PASS: WRONG_PASSPHRASE },
      nats: { servers: [nats.url], user: NATS_USER, pass_file: passFile },
      settings: { serves: [{ service: `${SERVICE}-2`, color: "green" }], ssh },
    }),
    launchAgent({
      role: "monitor",
      agentId: "monitor-secrets",
      dir,
      logLevel: "trace",
      env,
      nats: { servers: [nats.url], user: NATS_USER, pass: NATS_PASSWORD },
      settings: { services: [SERVICE] },
    }),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([nodeAgent?.stop(), monitor?.stop(), wrongKeyAgent?.stop()]);
  tap?.stop();
  await nc?.close();
  await Promise.allSettled([
    nats?.stop(),
    sshd?.stop(),
    app?.stop(),
    prometheus?.stop(),
    gate?.stop(),
  ]);
  await dir?.remove();
});

/** Every stored message of the audit stream, as text. */
async function storedStream(): Promise<string[]> {
  const jsm = await nc.jetstreamManager();
  const { state } = await jsm.streams.info(STREAM_NAME);
  const out: string[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(STREAM_NAME, { seq });
    out.push(`${msg.subject} ${new TextDecoder().decode(msg.data)}`);
  }
  return out;
}

function leaks(texts: readonly string[]): string[] {
  return Object.entries(SECRETS).flatMap(([name, secret]) =>
    texts.filter((t) => t.includes(secret)).map((t) => `${name} in: ${t.slice(0, 200)}`),
  );
}

describe("chaos: secrets never reach logs or events", () => {
  it("given the node agent holds an encrypted SSH key and a NATS password file, when it deploys over SSH at trace level, then the deploy passes and neither secret is printed or published", async () => {
    const event = createEvent("deploy.started", {
      service: SERVICE,
      source: "bluegreen/test/chaos",
      deploymentId: "d-secrets-1",
      data: startedData("v1.1", app),
    });
    await publishEvent(nc.jetstream(), event);
    // The key could only be used with its passphrase: a passed deploy proves it was read.
    const passed = await tap.wait("smoke.passed", (e) => e.deploymentid === "d-secrets-1", 30_000);
    expect(passed.data.version).toBe("v1.1");
    expect(nodeAgent.lines.some((l) => l.includes('"msg":"step finished"'))).toBe(true);
    expect(leaks(nodeAgent.lines)).toEqual([]);
  }, 45_000);

  it("given a node agent whose passphrase is wrong, when it deploys over SSH, then it fails with BG_ERR_SSH_AUTH and the wrong passphrase is printed nowhere", async () => {
    const event = createEvent("deploy.started", {
      service: `${SERVICE}-2`,
      source: "bluegreen/test/chaos",
      deploymentId: "d-secrets-wrong",
      data: startedData("v1.1", app),
    });
    await publishEvent(nc.jetstream(), event);
    const failed = await tap.wait(
      "deploy.failed",
      (e) => e.deploymentid === "d-secrets-wrong",
      30_000,
    );
    expect(failed.data.error.code).toBe("BG_ERR_SSH_AUTH");
    expect(leaks(wrongKeyAgent.lines)).toEqual([]);
  }, 45_000);

  it("given the monitor holds a NATS password and a Prometheus Authorization header, when it watches a window at trace level, then it queries Prometheus and prints neither secret", async () => {
    // The gate refuses a query without the header, and passes one with it.
    const query = `${gate.url}/api/v1/query?query=up`;
    expect((await fetch(query)).status).toBe(401);
    const authorized = await fetch(query, { headers: { Authorization: `Bearer ${PROM_TOKEN}` } });
    expect(authorized.status).toBe(200);
    const traffic = startApiTraffic([app.url]);
    try {
      const done = createEvent("switch.done", {
        service: SERVICE,
        source: "bluegreen/test/chaos",
        deploymentId: "d-secrets-2",
        data: promotedData({ version: "v1.1" }),
      });
      await publishEvent(nc.jetstream(), done);
      const passed = await tap.wait(
        "monitor.passed",
        (e) => e.deploymentid === "d-secrets-2",
        20_000,
      );
      expect(passed.data.checks).toBeGreaterThanOrEqual(2);
    } finally {
      await traffic.stop();
    }
    // Prometheus answered the checks (the header went with each query), and the debug lines
    // of each round were captured.
    const rounds = monitor.lines.filter((l) => l.includes('"msg":"check round"'));
    expect(rounds.some((l) => l.includes('"error-ratio":"ok'))).toBe(true);
    expect(rounds.every((l) => l.includes('"level":"debug"'))).toBe(true);
    expect(leaks(monitor.lines)).toEqual([]);
  }, 40_000);

  it("given both runs, then no secret is in any event of the stream nor in any message that crossed NATS", async () => {
    const stored = await storedStream();
    expect(stored.length).toBeGreaterThan(5);
    expect(wire.length).toBeGreaterThan(stored.length);
    expect(leaks(stored)).toEqual([]);
    expect(leaks(wire)).toEqual([]);
    // And the agents' full output once more, now that both have run and heartbeated.
    expect(leaks([...nodeAgent.lines, ...monitor.lines, ...wrongKeyAgent.lines])).toEqual([]);
  });
});
