// Signed audit checkpoints, end to end: a real coordinator signs a real stream, a standby takes
// over without forking the chain, `bluegreen audit verify` passes on the untouched trail and on
// its export; then the stream is recreated from an edited export (the stream denies delete and
// purge: recreating it is what someone with admin rights on NATS can do) with an altered, a
// deleted and a re-ordered event, and verify names each, on the stream and on the export.

import { generateKeyPairSync } from "node:crypto";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createEvent, STREAM_NAME, STREAM_SUBJECTS } from "@bluegreen/contracts";
import { Checkpointer } from "@bluegreen/coordinator/internal";
import {
  type CheckpointData,
  createLogger,
  ensureStream,
  lastCheckpointMessage,
  loadSigningKey,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
} from "@bluegreen/runtime";
import {
  type AgentProcess,
  bluegreen,
  connectClient,
  coordinatorConfig,
  makeTempDir,
  type NatsServer,
  publishEvent,
  startAgent,
  startNats,
  type TempDir,
  type TestClient,
} from "@bluegreen/testkit";
import { StorageType } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let nats: NatsServer;
let client: TestClient;
let dir: TempDir;
const agents: AgentProcess[] = [];

const auditConfig = () => ({
  signing_key_file: dir.file("keys", PRIVATE_KEY_FILE),
  checkpoint_every: 5,
  checkpoint_interval: "300ms",
});
const pub = () => dir.file("keys", PUBLIC_KEY_FILE);

let n = 0;
/** Publishes `count` events (freeze.set: no agent acts on them) and returns the last seq. */
async function publishEvents(count: number): Promise<number> {
  let seq = 0;
  for (let i = 0; i < count; i++) {
    n++;
    const event = createEvent("freeze.set", {
      service: `svc${n % 3}`,
      source: "bluegreen/cli/audit-test",
      id: `audit-test-${n}`,
      data: { scope: "service", by: "alice@ops-1", reason: `reason ${n}` },
    });
    seq = (await publishEvent(client.js, event)).seq;
  }
  return seq;
}

/** Waits until a checkpoint covers `seq`; returns it. */
async function coveredThrough(seq: number): Promise<CheckpointData & { source: string }> {
  let found: (CheckpointData & { source: string }) | undefined;
  await expect
    .poll(
      async () => {
        const m = await lastCheckpointMessage(client.jsm);
        if (m === undefined) return 0;
        const event = JSON.parse(Buffer.from(m.payload).toString()) as {
          source: string;
          data: CheckpointData;
        };
        found = { ...event.data, source: event.source };
        return event.data.lastSeq;
      },
      { timeout: 15_000, interval: 100 },
    )
    .toBeGreaterThanOrEqual(seq);
  return found as CheckpointData & { source: string };
}

const verify = (...args: string[]) =>
  bluegreen(nats.url, ["audit", "verify", "--public-key", pub(), ...args]);

beforeAll(async () => {
  nats = await startNats({ jetstream: true });
  client = await connectClient(nats.url);
  dir = await makeTempDir("audit");
  const keygen = await bluegreen(nats.url, ["audit", "keygen", "--out", dir.file("keys")]);
  expect(keygen.code, keygen.stderr).toBe(0);
  agents.push(
    await startAgent(
      "coordinator",
      "coordinator-1",
      dir.path,
      coordinatorConfig(nats.url, "coordinator-1", { audit: auditConfig() }),
    ),
  );
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await client?.close();
  await nats?.stop();
  await dir?.remove();
});

describe("audit checkpoints", () => {
  it("refuses to start with a signing key others can read, and says so in a coded error", async () => {
    const exposed = dir.file("exposed.key");
    writeFileSync(exposed, readFileSync(dir.file("keys", PRIVATE_KEY_FILE)));
    chmodSync(exposed, 0o640);
    const agent = await startAgent(
      "coordinator",
      "coordinator-exposed",
      dir.path,
      coordinatorConfig(nats.url, "coordinator-exposed", {
        audit: { ...auditConfig(), signing_key_file: exposed },
      }),
      { readyLine: false },
    );
    const exit = await agent.process.exited;
    expect(exit.code).toBe(1);
    expect(agent.lines.join("\n")).toMatch(/BG_ERR_AUDIT_KEY_EXPOSED: .*exposed\.key.*0640/);
  });

  it("keygen writes the private key 0600; without an audit block a coordinator says it signs nothing", async () => {
    expect(statSync(dir.file("keys", PRIVATE_KEY_FILE)).mode & 0o777).toBe(0o600);
    const off = await startAgent(
      "coordinator",
      "coordinator-off",
      dir.path,
      coordinatorConfig(nats.url, "coordinator-off"),
    );
    await off.stop();
    expect(off.lines.join("\n")).toMatch(/audit checkpoints are off/);
  });

  it("the leader signs the trail; a standby that takes over continues the same chain; verify passes", async () => {
    const first = await coveredThrough(await publishEvents(12));
    expect(first.source).toBe("bluegreen/coordinator/coordinator-1");
    // A standby with the same key (and its log line at start), then the leader stops.
    const standby = await startAgent(
      "coordinator",
      "coordinator-2",
      dir.path,
      coordinatorConfig(nats.url, "coordinator-2", { audit: auditConfig() }),
    );
    agents.push(standby);
    expect(standby.lines.join("\n")).toMatch(/audit checkpoints on/);
    await (agents.shift() as AgentProcess).stop();
    const next = await coveredThrough(await publishEvents(7));
    expect(next.source).toBe("bluegreen/coordinator/coordinator-2");
    expect(next.index).toBeGreaterThan(first.index);
    const metrics = await (await fetch(`${standby.url}/metrics`)).text();
    expect(metrics).toMatch(/^bluegreen_coordinator_audit_checkpoints_total [1-9]/m);
    expect(metrics).toContain(`bluegreen_coordinator_audit_covered_seq ${next.lastSeq}\n`);
    expect(metrics).toMatch(/^bluegreen_coordinator_audit_checkpoint_failures_total 0$/m);

    const result = await verify();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/begins at seq 1 \(checkpoint #0\)/);
    expect(result.stdout).toMatch(/ok: the trail verifies/);
    expect(result.stdout).not.toMatch(/problem:/);
  });

  it("checkpointers racing on one stream (two that believe they lead, beside the leader) never fork the chain", async () => {
    const key = loadSigningKey(auditConfig().signing_key_file);
    const racers = [1, 2].map(
      () =>
        new Checkpointer({
          bus: client.bus,
          jsm: client.jsm,
          key,
          policy: { every: 3, intervalMs: 50 },
          logger: createLogger({ level: "silent" }),
        }),
    );
    for (const r of racers) r.start();
    try {
      for (let i = 0; i < 4; i++) await publishEvents(4);
      await coveredThrough(await publishEvents(1));
    } finally {
      await Promise.all(racers.map((r) => r.stop()));
    }
    // Both sign what waits at the same moment: one checkpoint at most is stored for it.
    await publishEvents(3);
    const signed = await Promise.all(racers.map((r) => r.flush()));
    expect(signed.filter((c) => c !== undefined).length).toBeLessThanOrEqual(1);
    const result = await verify();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/problem:/);
  });

  it("an export of the untouched trail verifies without NATS, as the stream did", async () => {
    const out = dir.file("trail.jsonl");
    const exported = await bluegreen(nats.url, ["audit", "export", "--out", out]);
    expect(exported.code, exported.stderr).toBe(0);
    const result = await bluegreen("nats://127.0.0.1:1", [
      "audit",
      "verify",
      "--public-key",
      pub(),
      "--export",
      out,
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/ok: the trail verifies/);
  });

  it("an export from the middle of the stream verifies from the first checkpoint it holds whole", async () => {
    // From one past the start of checkpoint #1's range: the trail begins at checkpoint #2.
    const checkpoints = exportLines(dir.file("trail.jsonl"))
      .lines.filter((l) => l.subject === "bluegreen._.audit.checkpoint")
      .map((l) => (JSON.parse(l.payload) as { data: CheckpointData }).data);
    const second = checkpoints[1] as CheckpointData;
    const third = checkpoints[2] as CheckpointData;
    const out = dir.file("partial.jsonl");
    const since = String(second.firstSeq + 1);
    const exported = await bluegreen(nats.url, ["audit", "export", "--since", since, "--out", out]);
    expect(exported.code, exported.stderr).toBe(0);
    const result = await verify("--export", out);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `begins at seq ${third.firstSeq} (checkpoint #2): earlier events aged out or were not exported`,
    );
    expect(result.stdout).toContain(
      `warning: ${third.firstSeq - second.firstSeq - 1} message(s) before seq ${third.firstSeq} are before the trail begins`,
    );
  });
});

interface Line {
  seq: number;
  subject: string;
  msgId: string;
  payload: string;
}

/** The export's message lines (after the header). */
function exportLines(file: string): { header: string; lines: Line[] } {
  const [header, ...rest] = readFileSync(file, "utf8").trim().split("\n");
  return { header: header as string, lines: rest.map((l) => JSON.parse(l) as Line) };
}

/**
 * The stream deleted and created again from `lines`, each at its sequence (a line left out
 * leaves a gap: a filler published there and deleted), then locked again (deny delete/purge).
 */
async function recreateStream(lines: readonly Line[]): Promise<void> {
  await client.jsm.streams.delete(STREAM_NAME);
  await client.jsm.streams.add({
    name: STREAM_NAME,
    subjects: [...STREAM_SUBJECTS],
    storage: StorageType.File,
  });
  for (const line of lines) {
    for (;;) {
      const info = await client.jsm.streams.info(STREAM_NAME);
      if (info.state.last_seq + 1 >= line.seq) break;
      const filler = await client.js.publish("bluegreen._.audit.filler", "x");
      await client.jsm.streams.deleteMessage(STREAM_NAME, filler.seq);
    }
    const ack = await client.js.publish(line.subject, line.payload, { msgID: line.msgId });
    expect(ack.seq).toBe(line.seq);
  }
  await ensureStream(client.jsm, { maxAgeMs: 0, replicas: 1 });
}

describe("a trail recreated from an edited export", () => {
  let original: { header: string; lines: Line[] };
  /** Events (not checkpoints) covered by a checkpoint. */
  let covered: Line[];

  beforeAll(async () => {
    // Nothing signs from here on: the trail is edited as someone with NATS admin rights would.
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    const file = dir.file("original.jsonl");
    const exported = await bluegreen(nats.url, ["audit", "export", "--out", file]);
    expect(exported.code, exported.stderr).toBe(0);
    original = exportLines(file);
    covered = original.lines.filter((l) => l.subject.includes(".freeze.set") && l.seq < 10);
  });

  /** Recreates the stream from `lines`, then verifies the stream and the same lines as an export. */
  async function verifyBoth(name: string, lines: Line[]): Promise<[string, string]> {
    await recreateStream(lines);
    const file = dir.file(`${name}.jsonl`);
    writeFileSync(file, [original.header, ...lines.map((l) => JSON.stringify(l))].join("\n"));
    const onStream = await verify();
    const onExport = await verify("--export", file);
    expect(onStream.code, onStream.stdout + onStream.stderr).toBe(8);
    expect(onExport.code, onExport.stdout + onExport.stderr).toBe(8);
    return [onStream.stdout, onExport.stdout];
  }

  it("an altered event fails verify, named with its sequence", async () => {
    const target = covered[2] as Line;
    const lines = original.lines.map((l) =>
      l.seq === target.seq
        ? { ...l, payload: l.payload.replace("alice@ops-1", "mallory@ops-1") }
        : l,
    );
    for (const out of await verifyBoth("altered", lines)) {
      expect(out).toMatch(new RegExp(`problem: seq ${target.seq} altered: `));
      expect(out).toMatch(/FAILED: 1 problem/);
    }
  });

  it("a deleted event fails verify as a gap at its sequence", async () => {
    const target = covered[3] as Line;
    const lines = original.lines.filter((l) => l.seq !== target.seq);
    for (const out of await verifyBoth("deleted", lines)) {
      expect(out).toMatch(new RegExp(`problem: seq ${target.seq} missing: `));
      expect(out).toMatch(/FAILED: 1 problem/);
    }
  });

  it("re-ordered events fail verify, each named with where it belongs", async () => {
    const [a, b] = [covered[0] as Line, covered[1] as Line];
    const swap = (l: Line, with_: Line) => ({ ...with_, seq: l.seq });
    const lines = original.lines.map((l) =>
      l.seq === a.seq ? swap(l, b) : l.seq === b.seq ? swap(l, a) : l,
    );
    for (const out of await verifyBoth("reordered", lines)) {
      expect(out).toMatch(
        new RegExp(`problem: seq ${a.seq} reordered: this event belongs at seq ${b.seq}`),
      );
      expect(out).toMatch(
        new RegExp(`problem: seq ${b.seq} reordered: this event belongs at seq ${a.seq}`),
      );
      expect(out).toMatch(/FAILED: 2 problem/);
    }
  });

  it("the untouched export, recreated, verifies again", async () => {
    await recreateStream(original.lines);
    const result = await verify();
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });
});

describe("a leader's checkpointer on a stream that changes under it", () => {
  const failures: unknown[] = [];
  const checkpointer = (key = loadSigningKey(auditConfig().signing_key_file)) =>
    new Checkpointer({
      bus: client.bus,
      jsm: client.jsm,
      key,
      policy: { every: 100, intervalMs: 60_000 },
      logger: createLogger({ level: "silent" }),
      onFailure: (err) => failures.push(err),
    });

  // Only the checkpointers of these tests sign (the coordinators stop, if still running).
  beforeAll(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
  });

  /** A new empty stream, not locked: messages can be deleted, as max_age does. */
  async function freshStream(): Promise<void> {
    await client.jsm.streams.delete(STREAM_NAME);
    await client.jsm.streams.add({
      name: STREAM_NAME,
      subjects: [...STREAM_SUBJECTS],
      storage: StorageType.File,
    });
    failures.length = 0;
  }

  it("when what it signs next aged out on a quiet stream, it starts a new chain (verify: the trail begins there)", async () => {
    await freshStream();
    const leader = checkpointer();
    await publishEvents(3);
    expect(await leader.flush()).toMatchObject({ index: 0, firstSeq: 1, lastSeq: 3 });
    // The checkpoint (seq 4) and all before it age out; then one new event at seq 5.
    for (let seq = 1; seq <= 4; seq++) await client.jsm.streams.deleteMessage(STREAM_NAME, seq);
    expect(await publishEvents(1)).toBe(5);
    expect(await leader.flush()).toMatchObject({ index: 0, firstSeq: 5, lastSeq: 5 });
    expect(failures).toEqual([]);
    const result = await verify();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/begins at seq 5 \(checkpoint #0\)/);
  });

  it("a forged last checkpoint is refused and counted; the chain continues after the last one its key signed", async () => {
    await freshStream();
    await publishEvents(3);
    const first = (await checkpointer().flush()) as CheckpointData;
    // This key's id, no valid signature, a range that would stop signing for good if followed.
    const genuine = createEvent("audit.checkpoint", {
      service: "_",
      source: "bluegreen/coordinator/mallory",
      data: first,
    });
    const data = { ...first, index: 1, firstSeq: 9e15 - 2, lastSeq: 9e15 };
    const forged = await client.js.publish(
      "bluegreen._.audit.checkpoint",
      JSON.stringify({ ...genuine, id: "forged", data }),
    );
    await publishEvents(2);
    const next = await checkpointer().flush();
    expect(failures.map(String)).toEqual([
      expect.stringMatching(new RegExp(`refused the last checkpoint \\(seq ${forged.seq}\\)`)),
    ]);
    expect(next).toMatchObject({ index: 1, firstSeq: 4, lastSeq: 7 });
    const result = await verify();
    expect(result.code, result.stdout + result.stderr).toBe(8);
    expect(result.stdout).toMatch(
      new RegExp(`problem: seq ${forged.seq} checkpoint_invalid: .*signature does not match`),
    );
    expect(result.stdout).toMatch(/FAILED: 1 problem/);
  });

  it("after a key rotation the new key starts a new chain over the stream; verify takes both keys", async () => {
    await freshStream();
    await publishEvents(3);
    await checkpointer().flush();
    const next = generateKeyPairSync("ed25519");
    const nextPub = dir.file("next.pub");
    writeFileSync(nextPub, next.publicKey.export({ type: "spki", format: "pem" }));
    expect(await checkpointer(next.privateKey).flush()).toMatchObject({
      index: 0,
      firstSeq: 1,
      lastSeq: 4,
    });
    expect(failures.map(String)).toEqual([
      expect.stringMatching(/refused the last checkpoint \(seq 4\): signed by key/),
    ]);
    const both = await verify("--public-key", nextPub);
    expect(both.code, both.stdout + both.stderr).toBe(0);
    const nextOnly = await bluegreen(nats.url, ["audit", "verify", "--public-key", nextPub]);
    expect(nextOnly.code, nextOnly.stdout + nextOnly.stderr).toBe(8);
    expect(nextOnly.stdout).toMatch(/problem: seq 4 checkpoint_invalid: signed by key/);
  });
});
