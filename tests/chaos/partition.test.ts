// A network partition between the node agent and NATS during a deployment: the node agent
// and nats-server each run in a network namespace the test creates (partition-stack.ts), and
// the node agent's only link to NATS is set down for a while, then up again. The outage is
// shorter than the deployment's deadline, so the documented outcome is success: the commands
// reach the agent once it is back, the deployment completes, and every step ran exactly once.

import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { BgEvent } from "@bluegreen/contracts";
import { nextEvent, timeline } from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SUCCESS_ONCE } from "./nats-faults.ts";
import { netnsUnavailable } from "./netns.ts";
import { counts, deployEnded, repeatedIds } from "./node-rig.ts";
import { type PartitionStack, type StoredEvent, startPartitionStack } from "./partition-stack.ts";

/** How long the node agent stays cut off: well inside the 145 s deploying deadline. */
const OUTAGE_MS = 10_000;
const unavailable = netnsUnavailable();
if (unavailable !== undefined) console.warn(`partition suite skipped: ${unavailable}`);

let stack: PartitionStack;

const stepRuns = (id: string) =>
  readFileSync(stack.stepLog, "utf8")
    .split("\n")
    .filter((l) => l === id);

interface Partitioned {
  code: number | null;
  output: string;
  deploymentId: string;
  events: StoredEvent[];
  /** Just before the link was set down, and just before it was set up again. */
  cutAt: number;
  restoreAt: number;
}

/**
 * `bluegreen deploy <version> --wait` with the node agent's link to NATS down for OUTAGE_MS:
 * from just before the request (`"before"`), or from the moment an event matching `cutWhen`
 * is published.
 */
async function deployThroughOutage(
  version: string,
  cutWhen: "before" | ((e: BgEvent) => boolean),
  what: string,
): Promise<Partitioned> {
  let cutAt = 0;
  let restoreAt = 0;
  const down = async () => {
    cutAt = Date.now();
    await stack.lab.setLink(stack.nodeLinkEnd, "down");
  };
  const holdThenRestore = async () => {
    await sleep(cutAt + OUTAGE_MS - Date.now()); // the fault itself: how long it lasts
    restoreAt = Date.now();
    await stack.lab.setLink(stack.nodeLinkEnd, "up");
  };
  let outage: Promise<void>;
  if (cutWhen === "before") {
    await down();
    outage = holdThenRestore();
  } else {
    outage = nextEvent(stack.nc, stack.service, cutWhen, what, 60_000)
      .then(down)
      .then(holdThenRestore);
  }
  const run = stack.cli(["deploy", stack.service, version, "--wait", "--timeout", "150s"], 160_000);
  const [result] = await Promise.all([run, outage]);
  return {
    ...(await deployEnded(result, (id) => stack.events(id))),
    cutAt,
    restoreAt,
  };
}

/** Completed as if nothing happened: exit 0, nginx serves it, each event and step once. */
async function expectCompletedOnce(p: Partitioned, version: string, color: string) {
  expect(p.code, `${p.output}\n--- node agent ---\n${stack.nodeAgent.output.lastLines(60)}`).toBe(
    0,
  );
  expect(p.restoreAt).toBeGreaterThan(0);
  expect(await stack.served()).toMatchObject({ status: 200, color, version });
  const events = p.events.map((s) => s.event);
  expect(repeatedIds(events)).toEqual([]);
  const seen = counts(events);
  const once = [
    ...SUCCESS_ONCE,
    ...[1, 2, 3, 4].flatMap((step) => [`progress ${step}:started`, `progress ${step}:succeeded`]),
  ];
  for (const name of once) expect(seen[name], `${name} in ${timeline(events).join(", ")}`).toBe(1);
  expect(Object.keys(seen).sort()).toEqual([...once].sort());
  expect(stepRuns(p.deploymentId)).toHaveLength(1);
  expect((await stack.lock())?.releasedAt).toBeDefined();
}

const fromNodeAgent = (p: Partitioned) =>
  p.events.filter((s) => s.event.source === `bluegreen/node-agent/${stack.nodeAgentId}`);

const storedAt = (p: Partitioned, name: string) =>
  p.events.find((s) => timeline([s.event])[0] === name)?.storedAt ?? 0;

/** For the record (docs/reliability.md): how the outage played out. */
function report(label: string, p: Partitioned) {
  const first = fromNodeAgent(p).find((s) => s.storedAt >= p.restoreAt);
  const end = p.events.at(-1)?.storedAt ?? 0;
  const connection = stack.nodeAgent.output
    .text()
    .split("\n")
    .filter((l) => /"msg":"nats (disconnected|reconnected|connection stale|error)"/.test(l))
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
  const warnings = stack.nodeAgent.output
    .text()
    .split("\n")
    .filter((l) => l.includes(p.deploymentId) && /"level":"(warn|error)"/.test(l))
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
  console.info(
    `${label}: cut ${p.restoreAt - p.cutAt} ms; first node-agent event stored ${
      first === undefined ? "?" : first.storedAt - p.restoreAt
    } ms after the restore (${first === undefined ? "-" : timeline([first.event])[0]}); ` +
      `deployment ended ${end - p.restoreAt} ms after the restore; node agent connection: ${
        connection.join(", ") || "no status change logged"
      }; its warnings: ${warnings.join(" | ") || "none"}`,
  );
}

describe.skipIf(unavailable !== undefined)(
  "given the node agent and nats-server in their own network namespaces, blue serving v1.0",
  () => {
    beforeAll(async () => {
      stack = await startPartitionStack();
    }, 120_000);

    afterAll(async () => {
      await stack?.stop();
    }, 60_000);

    it("when the node agent is cut from NATS as the request is made and comes back 10 s later, then deploy.started reaches it after the outage, the deployment completes and each step ran once", async () => {
      const p = await deployThroughOutage("v2.0", "before", "the request");
      report("cut before the request", p);
      await expectCompletedOnce(p, "v2.0", "green");
      // The coordinator went on meanwhile: deploy.started was stored during the outage …
      const started = p.events.find((s) => s.event.type === "bluegreen.deploy.started");
      expect(started?.storedAt).toBeGreaterThan(p.cutAt);
      expect(started?.storedAt).toBeLessThan(p.restoreAt);
      // … and nothing from the node agent reached the server before the link was back.
      const node = fromNodeAgent(p);
      expect(node.length).toBeGreaterThan(0);
      for (const s of node)
        expect(s.storedAt, timeline([s.event])[0]).toBeGreaterThanOrEqual(p.restoreAt);
    }, 180_000);

    it("when the link goes down while the steps run (step 2 started) and comes back 10 s later, then the deployment completes and no step ran twice", async () => {
      const p = await deployThroughOutage(
        "v2.1",
        (e) =>
          e.type === "bluegreen.deploy.progress" &&
          (e.data as { step: number; status: string }).step === 2 &&
          (e.data as { status: string }).status === "started",
        "step 2 to start",
      );
      // Green serves v2.0 since the first case: blue is the idle colour now.
      report("cut at step 2", p);
      await expectCompletedOnce(p, "v2.1", "blue");
      // The cut came while step 2 ran: its end reached the server only once the link was back.
      expect(storedAt(p, "progress 2:succeeded")).toBeGreaterThanOrEqual(p.restoreAt);
    }, 180_000);

    it("when the link goes down as the node reports ready (smoke checks, result recorded) and comes back 10 s later, then the deployment completes and no step ran twice", async () => {
      const p = await deployThroughOutage(
        "v2.2",
        (e) => e.type === "bluegreen.deploy.ready",
        "deploy.ready",
      );
      report("cut at deploy.ready", p);
      await expectCompletedOnce(p, "v2.2", "green");
      // The cut came during the smoke checks: their result was recorded and published only
      // once the link was back.
      expect(storedAt(p, "smoke.passed")).toBeGreaterThanOrEqual(p.restoreAt);
    }, 180_000);
  },
);
