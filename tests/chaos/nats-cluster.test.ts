// A 3-node JetStream cluster loses the node the coordinator is connected to, mid-deployment.
// Given the whole stack (nginx, two sample-app nodes, the switcher, a node agent per colour,
// the monitor and the coordinator, all processes) on three routed nats-servers, every agent and
// the CLI given all three URLs, the BLUEGREEN stream and the KV buckets with 3 replicas …

import { Buckets, STREAM_NAME } from "@bluegreen/contracts";
import { httpGet, type NatsCluster, startNatsCluster, waitFor } from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it, onTestFailed, onTestFinished } from "vitest";
import { type E2eStack, startE2eStack } from "../e2e/stack.ts";
import {
  agentLogs,
  deploymentIdOf,
  EventWatch,
  expectFinalState,
  type FaultPoint,
  faultAt,
  names,
  SUCCESS_ONCE,
  Tail,
} from "./nats-faults.ts";

let cluster: NatsCluster;
let stack: E2eStack;
let watch: EventWatch;

const COORDINATOR_CONNECTION = "bluegreen-coordinator-coordinator-demo";
const STREAMS = [STREAM_NAME, ...Object.values(Buckets).map((bucket) => `KV_${bucket}`)];

interface Connz {
  connections?: { name?: string }[];
}

/** The index of the node whose /connz lists the coordinator's connection. */
async function coordinatorNode(): Promise<number> {
  return waitFor(
    async () => {
      for (const [i, node] of cluster.servers.entries()) {
        if (node.process?.running !== true) continue;
        const response = await httpGet(`${node.monitorUrl}/connz?limit=1024`);
        const connz = JSON.parse(response?.body ?? "{}") as Connz;
        if (connz.connections?.some((c) => c.name === COORDINATOR_CONNECTION)) return i;
      }
      return undefined;
    },
    { what: "the node the coordinator is connected to (/connz)", timeoutMs: 20_000 },
  );
}

/** Every replica of the stream and of each bucket, as the cluster reports them. */
async function replication(): Promise<{ name: string; replicas: number; current: number }[]> {
  const jsm = await stack.base.nc.jetstreamManager();
  return Promise.all(
    STREAMS.map(async (name) => {
      const info = await jsm.streams.info(name);
      const peers = info.cluster?.replicas ?? [];
      return {
        name,
        replicas: info.config.num_replicas,
        // The leader plus the followers that caught up.
        current:
          (info.cluster?.leader === undefined ? 0 : 1) + peers.filter((p) => p.current).length,
      };
    }),
  );
}

/** Every stream R3 with a leader and two current followers; else throws what is missing. */
const fullyReplicated = async () => {
  const all = await replication();
  const short = all.filter((s) => s.replicas !== 3 || s.current !== 3);
  if (short.length > 0)
    throw new Error(short.map((s) => `${s.name} R${s.replicas} ${s.current} current`).join(", "));
  return all;
};

/** Progress lines with the time since the test began, for the report and a failure. */
function stepper(what: string): (line: string) => void {
  const t0 = Date.now();
  return (line) => console.info(`nats-cluster ${what} +${Date.now() - t0} ms: ${line}`);
}

beforeAll(async () => {
  cluster = await startNatsCluster({ size: 3 });
  stack = await startE2eStack({ window: "4s", natsCluster: cluster });
  watch = await EventWatch.open(cluster.urls, stack.service);
}, 120_000);

afterAll(async () => {
  await watch?.close();
  await stack?.stop();
  await cluster?.stop();
}, 60_000);

describe("given three nats-servers and every agent configured with replicas 3", () => {
  it("the BLUEGREEN stream and every KV bucket have 3 current replicas", async () => {
    // The CLI's `apply` created them (R1) before any agent ran; the agents raised them to R3.
    const all = await waitFor(fullyReplicated, {
      what: "R3 on the stream and every bucket",
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    expect(all.map((s) => s.name).sort()).toEqual([...STREAMS].sort());
  }, 40_000);

  const KILLS: readonly FaultPoint[] = [
    { phase: "smoke", type: "deploy.ready" },
    { phase: "switching", type: "switch.requested" },
  ];
  KILLS.forEach((point, i) => {
    const version = `v1.${i + 1}`;
    it(`when the coordinator's node is SIGKILLed in the ${point.phase} phase (on ${point.type}), then deploy ${version} --wait exits 0 on the two nodes left, and the node rejoins afterwards`, async () => {
      onTestFailed(() => console.info(agentLogs(stack)));
      // Whatever happens here, the next case starts from three nodes.
      onTestFinished(async () => {
        const dead = cluster.servers.findIndex((n) => n.process?.running !== true);
        if (dead >= 0) await cluster.restart(dead);
      });
      const step = stepper(point.phase);
      await waitFor(fullyReplicated, { what: "a fully replicated start", timeoutMs: 30_000 });
      const before = await stack.served();
      expect(before.status).toBe(200);
      const target = before.color === "blue" ? "green" : "blue";
      const victim = await coordinatorNode();
      const node = cluster.servers[victim];
      const pid = node?.process?.pid;
      if (node === undefined || pid === undefined) throw new Error(`no running node ${victim}`);
      step(`the coordinator is on ${node.name}; deploying ${version} to ${target}`);
      // An operator's `tail --follow` connected to that very node (it learns the others from it).
      const tail = await Tail.start([node.url], stack.service);

      const fault = faultAt(
        watch,
        [point],
        {
          // Frozen in the callback that sees the event: the coordinator's next step needs NATS.
          freeze: () => {
            step(`${point.type} seen: freezing ${node.name}`);
            process.kill(pid, "SIGSTOP");
          },
          fault: () => cluster.kill(victim, "SIGKILL"),
        },
        60_000,
      );
      const run = await stack.cli(
        ["deploy", stack.service, version, "--wait", "--timeout", "60s"],
        65_000,
      );
      await fault;
      step(`deploy --wait exited ${run.code}`);
      // Left dead until the deployment ended: it completed on a quorum of two.
      expect(node.process?.running, `${node.name} stayed dead during the deployment`).toBe(false);
      const moved = await coordinatorNode();
      step(`the coordinator is now on ${cluster.servers[moved]?.name}`);
      expect(moved, "the coordinator reconnected to another node").not.toBe(victim);

      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/: succeeded$/m);
      const deploymentId = deploymentIdOf(run.stdout);
      const events = await expectFinalState(stack, deploymentId, {
        terminal: "deploy.succeeded",
        served: { color: target, version },
        once: SUCCESS_ONCE,
      });
      step("final state checked");
      // The follower on the dead node reconnected and printed the whole story, once.
      expect(await tail.events(deploymentId, "deploy.succeeded")).toEqual(names(events));
      expect(await tail.stop(), "tail --follow exits 0 on SIGTERM").toBe(0);
      step("tail --follow printed every event once");

      // Restarted afterwards, from its store: it rejoins and catches up on every replica.
      await cluster.restart(victim);
      step(`${node.name} restarted`);
      await waitFor(fullyReplicated, {
        what: `${node.name} to catch up on the stream and every bucket`,
        timeoutMs: 30_000,
        intervalMs: 250,
      });
      step(`${node.name} current on every replica`);
    }, 120_000);
  });
});
