// The coordinator as a real process on a real nats-server, with the other agents simulated
// in the test (`SimAgents` from @bluegreen/testkit), driven through the `bluegreen` CLI as CI
// drives it. The full stack with the real agents is in tests/e2e.

import { writeFileSync } from "node:fs";
import { activeRecordSchema, Buckets, parseEvent } from "@bluegreen/contracts";
import {
  type AgentProcess,
  bluegreen,
  coordinatorConfig,
  makeTempDir,
  type NatsServer,
  SimAgents,
  startAgent,
  startNats,
  type TempDir,
  waitFor,
} from "@bluegreen/testkit";
import { connect, type KV, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const DEFINITION = `
service: shop
nodes:
  blue:  { host: 127.0.0.1, port: 18001 }
  green: { host: 127.0.0.1, port: 18002 }
deploy: { workdir: /srv/shop, steps: [[sample-app-ctl, set-version, "\${version}"]], timeout: 10s }
readiness: { timeout: 5s }
smoke: [{ name: health, request: { path: /health }, timeout: 2s }]
traffic: { upstream: shop_active, file: /tmp/shop-active.conf, verify: { url: "http://127.0.0.1:18000/health" }, switch_timeout: 5s }
monitor:
  window: 2s
  interval: 1s
  source: { scrape: true }
  slos: [{ name: error-ratio, scrape: { errorRatio: {} }, max: 0.05 }]
`;

let nats: NatsServer;
let tmp: TempDir;
let nc: NatsConnection;
let sim: SimAgents;
let coordinator: AgentProcess;
let locks: KV;
let active: KV;
let deployments: KV;
const others: AgentProcess[] = [];

const cli = (...args: string[]) => bluegreen(nats.url, args);

async function activeColor(): Promise<{ color: string; version: string | null }> {
  const entry = await active.get("shop");
  if (entry === null) throw new Error("no active record");
  return activeRecordSchema.parse(JSON.parse(new TextDecoder().decode(entry.value)));
}

beforeAll(async () => {
  nats = await startNats({ jetstream: true });
  tmp = await makeTempDir("coordinator");
  coordinator = await startAgent(
    "coordinator",
    "coordinator-1",
    tmp.path,
    coordinatorConfig(nats.url, "coordinator-1", { require_heartbeats: false }),
  );
  nc = await connect({ servers: nats.url });
  sim = await new SimAgents(nc).start();
  const js = nc.jetstream();
  locks = await js.views.kv(Buckets.locks);
  active = await js.views.kv(Buckets.active);
  deployments = await js.views.kv(Buckets.deployments);
  writeFileSync(tmp.file("shop.yaml"), DEFINITION);
  const applied = await cli("apply", "-f", tmp.file("shop.yaml"));
  expect(applied.code, applied.stderr).toBe(0);
  // Given blue serves v1.0.
  await sim.seedActive("shop", {
    color: "blue",
    version: "v1.0",
    switchedAt: new Date().toISOString(),
    reason: "adopted",
  });
});

afterAll(async () => {
  await sim?.stop();
  await nc?.drain();
  await coordinator?.stop();
  for (const other of others) await other.stop();
  await nats?.stop();
  await tmp?.remove();
});

describe("coordinator with simulated agents", () => {
  it("deploy --wait: exit 0, the new colour is active, deploy.succeeded, lock released", async () => {
    const run = await cli("deploy", "shop", "v1.1", "--wait", "--timeout", "30s");
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/deploy\.succeeded\s+green serves v1\.1/);
    expect(await activeColor()).toMatchObject({ color: "green", version: "v1.1" });
    const lock = await locks.get("shop");
    expect(JSON.parse(new TextDecoder().decode(lock?.value))).toHaveProperty("releasedAt");
  });

  it("smoke failing: exit 4, traffic stays", async () => {
    const run = await cli("deploy", "shop", "v1.2-smoke-fail", "--wait", "--timeout", "30s");
    expect(run.code, run.stdout + run.stderr).toBe(4);
    expect(run.stdout).toMatch(/deploy\.failed\s+at smoke/);
    expect(await activeColor()).toMatchObject({ color: "green", version: "v1.1" });
  });

  it("a breach after the switch: rolled back (exit 5), the breach and the time to rollback", async () => {
    const run = await cli("deploy", "shop", "v1.3-breach", "--wait", "--json", "--timeout", "30s");
    expect(run.code, run.stdout + run.stderr).toBe(5);
    const events = run.lines.map((l) => JSON.parse(l));
    const rolledBack = events.find((e) => e.type === "bluegreen.deploy.rolled_back");
    expect(rolledBack.data).toMatchObject({
      from: "blue",
      to: "green",
      restoredVersion: "v1.1",
      cause: "slo_breach",
      breach: { slo: "error-ratio", value: 0.5, threshold: 0.05 },
    });
    // From the breach to the switch back, by the events' own times.
    const breached = events.find((e) => e.type === "bluegreen.slo.breached");
    const back = events.find(
      (e) => e.type === "bluegreen.switch.done" && e.data.reason === "rollback",
    );
    expect(rolledBack.data.timeToRollbackMs).toBe(
      Date.parse(back.time) - Date.parse(breached.time),
    );
    const switches = events.filter((e) => e.type === "bluegreen.switch.requested");
    expect(switches.map((e) => [e.data.to, e.data.reason])).toEqual([
      ["blue", "promote"],
      ["green", "rollback"],
    ]);
    // The rollback is fenced on the revision the promotion wrote.
    const promoted = events.find(
      (e) => e.type === "bluegreen.switch.done" && e.data.reason === "promote",
    );
    expect(switches[1].data.expectedRevision).toBe(promoted.data.revision);
    expect(await activeColor()).toMatchObject({ color: "green", version: "v1.1" });
  });

  it("the coordinator's own /metrics count each outcome so far and the time to rollback", async () => {
    const text = await (await fetch(`${coordinator.url}/metrics`)).text();
    const value = (series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('bluegreen_coordinator_deployments_total{outcome="succeeded"}')).toBe(1);
    expect(value('bluegreen_coordinator_deployments_total{outcome="failed"}')).toBe(1);
    expect(value('bluegreen_coordinator_deployments_total{outcome="rolled_back"}')).toBe(1);
    expect(value("bluegreen_coordinator_time_to_rollback_seconds_count")).toBe(1);
    expect(value("bluegreen_coordinator_leader")).toBe(1);
    expect(value("bluegreen_coordinator_deployments_in_flight")).toBe(0);
    expect(
      value('bluegreen_coordinator_event_handle_seconds_count{type="bluegreen.deploy.requested"}'),
    ).toBeGreaterThanOrEqual(3);
  });

  it("refuses an unknown service, an already active version, an unsafe version (exit 3)", async () => {
    const [unknown, same, unsafe] = await Promise.all([
      cli("deploy", "nosuch", "v1", "--wait", "--timeout", "20s"),
      cli("deploy", "shop", "v1.1", "--wait", "--timeout", "20s"),
      cli("deploy", "shop", "v1;reboot", "--wait"),
    ]);
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toMatch(/BG_ERR_CONFIG_UNKNOWN_SERVICE/);
    expect(same.code).toBe(3);
    expect(same.stdout).toMatch(/BG_ERR_DEPLOY_ALREADY_ACTIVE/);
    expect(unsafe.code).toBe(3);
    expect(unsafe.stderr).toMatch(/BG_ERR_VERSION_UNSAFE/);
  });

  it("bad input on the wire (nats pub) gets a coded agent.rejected and the coordinator goes on", async () => {
    const rejections: { code: string; originalSubject: string }[] = [];
    const sub = nc.subscribe("bluegreen.*.agent.rejected", {
      callback: (_e, msg) => rejections.push(JSON.parse(new TextDecoder().decode(msg.data)).data),
    });
    const js = nc.jetstream();
    const unsafe = {
      specversion: "1.0",
      id: "ci-unsafe-1",
      source: "ci",
      type: "bluegreen.deploy.requested",
      time: new Date().toISOString(),
      subject: "junk",
      data: { version: "v1;reboot" },
    };
    await js.publish("bluegreen.junk.deploy.requested", JSON.stringify(unsafe), {
      msgID: unsafe.id,
    });
    await js.publish("bluegreen.junk.deploy.requested", "{not json", { msgID: "garbage-1" });
    await waitFor(() => (rejections.length >= 2 ? true : undefined), {
      what: "two rejections",
      timeoutMs: 10_000,
    });
    sub.unsubscribe();
    expect(rejections.map((r) => r.code).sort()).toEqual([
      "BG_ERR_EVENT_MALFORMED_JSON",
      "BG_ERR_VERSION_UNSAFE",
    ]);
    expect(coordinator.process.running).toBe(true);
  });

  it("a second deploy while one runs is rejected naming the first; abort frees the service", async () => {
    const first = await cli("deploy", "shop", "v1.4", "--manual", "--json");
    expect(first.code).toBe(0);
    const firstId = JSON.parse(first.lines[0] ?? "{}").deploymentId as string;
    const second = await cli("deploy", "shop", "v1.5", "--wait", "--timeout", "20s");
    expect(second.code).toBe(3);
    expect(second.stdout).toContain(
      `BG_ERR_DEPLOY_BUSY: service 'shop' is busy with deployment ${firstId}`,
    );
    const aborted = await cli("abort", "shop", firstId, "--reason", "test");
    expect(aborted.code, aborted.stdout + aborted.stderr).toBe(0);
    expect(aborted.stdout).toMatch(
      /deploy\.aborted\s+in (deploying|smoke|awaiting_promotion) by .*traffic never moved/,
    );
  });

  it("HA: the leader killed at the manual gate; the standby takes over within the lease time", async () => {
    const standby = await startAgent(
      "coordinator",
      "coordinator-2",
      tmp.path,
      coordinatorConfig(nats.url, "coordinator-2", { require_heartbeats: false }),
    );
    others.push(standby);
    const started = await cli("deploy", "shop", "v1.6", "--manual", "--json");
    const id = JSON.parse(started.lines[0] ?? "{}").deploymentId as string;
    const phaseOf = async () => {
      const entry = await deployments.get(`shop.${id}`);
      return entry === null
        ? undefined
        : (JSON.parse(new TextDecoder().decode(entry.value)).phase as string);
    };
    await waitFor(async () => ((await phaseOf()) === "awaiting_promotion" ? true : undefined), {
      what: "the deployment to wait at its gate",
      timeoutMs: 15_000,
    });
    const killedAt = Date.now();
    const elected = standby.process.waitForLine(/"msg":"elected leader"/, {
      what: "the standby to take over",
      timeoutMs: 10_000,
    });
    await coordinator.kill();
    await elected;
    // Lease 3 s, checked every 750 ms: the standby leads within the lease time (plus one check,
    // plus slack for a loaded 2-core machine).
    expect(Date.now() - killedAt).toBeLessThan(3_000 + 750 + 2_500);
    const promoted = await cli("promote", "shop", id, "--wait", "--timeout", "30s");
    expect(promoted.code, promoted.stdout + promoted.stderr).toBe(0);
    expect(await activeColor()).toMatchObject({ color: "blue", version: "v1.6" });
    // The old leader comes back as a standby: one leader at a time.
    coordinator = await startAgent(
      "coordinator",
      "coordinator-1",
      tmp.path,
      coordinatorConfig(nats.url, "coordinator-1", { require_heartbeats: false }),
    );
    const lease = await locks.get("_leader");
    expect(JSON.parse(new TextDecoder().decode(lease?.value)).holder).toBe("coordinator-2");
  });

  it("a service lock held by a deployment that went away is taken by the next once it lapsed", async () => {
    const lease = (expiresAt: Date) =>
      JSON.stringify({
        holder: "ghost-deployment",
        by: "coordinator-gone",
        acquiredAt: new Date(Date.now() - 60_000).toISOString(),
        expiresAt: expiresAt.toISOString(),
        term: 1,
      });
    // Still within its time: the service is busy with the ghost.
    await locks.put("shop", lease(new Date(Date.now() + 60_000)));
    const busy = await cli("deploy", "shop", "v1.7", "--wait", "--timeout", "20s");
    expect(busy.code).toBe(3);
    expect(busy.stdout).toContain("busy with deployment ghost-deployment");
    // Lapsed: the next deployment takes the lock and runs to the end.
    await locks.put("shop", lease(new Date(Date.now() - 1_000)));
    const run = await cli("deploy", "shop", "v1.7", "--wait", "--json", "--timeout", "30s");
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const succeeded = run.lines
      .map((l) => JSON.parse(l))
      .find((e) => e.type === "bluegreen.deploy.succeeded");
    const lock = JSON.parse(new TextDecoder().decode((await locks.get("shop"))?.value));
    expect(lock).toMatchObject({
      holder: succeeded.deploymentid,
      by: "coordinator-2",
      term: 2,
    });
    expect(lock).toHaveProperty("releasedAt");
    expect(await activeColor()).toMatchObject({ version: "v1.7" });
  });

  it("a node event that says it comes from a node agent, about a node it does not serve, is refused (coded agent.rejected) and changes nothing", async () => {
    const started = await cli("deploy", "shop", "v1.8", "--manual", "--json");
    const id = JSON.parse(started.lines[0] ?? "{}").deploymentId as string;
    const record = async () => {
      const entry = await deployments.get(`shop.${id}`);
      return JSON.parse(new TextDecoder().decode(entry?.value)) as { phase: string };
    };
    await waitFor(
      async () => ((await record()).phase === "awaiting_promotion" ? true : undefined),
      {
        what: "the deployment to wait at its gate",
        timeoutMs: 15_000,
      },
    );
    const before = await record();
    const rejections: { code: string; originalId: string; message: string }[] = [];
    const sub = nc.subscribe("bluegreen.shop.agent.rejected", {
      callback: (_e, msg) => rejections.push(JSON.parse(new TextDecoder().decode(msg.data)).data),
    });
    // The green node agent reporting on blue's node, as the green colour.
    const forged = {
      specversion: "1.0",
      id: `forged-${id}`,
      source: "bluegreen/node-agent/node-agent-shop-green",
      type: "bluegreen.smoke.failed",
      time: new Date().toISOString(),
      subject: "shop",
      deploymentid: id,
      datacontenttype: "application/json",
      data: {
        node: "127.0.0.1:18001",
        color: "green",
        version: "v1.8",
        durationMs: 1,
        checks: [],
        error: { code: "BG_ERR_SMOKE_FAILED", message: "forged", retryable: false },
      },
    };
    await nc.jetstream().publish("bluegreen.shop.smoke.failed", JSON.stringify(forged), {
      msgID: forged.id,
    });
    await waitFor(() => rejections.find((r) => r.originalId === forged.id), {
      what: "the forged event's rejection",
      timeoutMs: 10_000,
    });
    sub.unsubscribe();
    const rejected = rejections.find((r) => r.originalId === forged.id);
    expect(rejected?.code).toBe("BG_ERR_AGENT_NOT_SERVING");
    expect(rejected?.message).toContain("127.0.0.1:18001 is not a green node in the definition");
    expect(await record()).toEqual(before);
    const aborted = await cli("abort", "shop", id, "--reason", "test");
    expect(aborted.code, aborted.stdout + aborted.stderr).toBe(0);
  });

  it("tail --since shows the story in order; tail --json lines parse as the contract says", async () => {
    const text = await cli("tail", "--service", "shop", "--since", "1h");
    expect(text.code).toBe(0);
    const story = text.lines.filter((l) => l.includes("v1.1") || l.includes("deploy."));
    expect(story.length).toBeGreaterThan(5);
    const firstDeploy = text.lines
      .filter((l) => /deploy\.(requested|started|succeeded)/.test(l))
      .slice(0, 3);
    expect(firstDeploy.map((l) => l.match(/deploy\.\w+/)?.[0])).toEqual([
      "deploy.requested",
      "deploy.started",
      "deploy.succeeded",
    ]);
    const json = await cli("tail", "--service", "shop", "--json");
    expect(json.lines.length).toBeGreaterThan(10);
    for (const line of json.lines) expect(parseEvent(line).ok, line).toBe(true);
    const times = json.lines.map((l) => Date.parse(JSON.parse(l).time));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});
