// The whole stack with the node agent and nats-server each in a network namespace of their
// own, so the node agent's path to NATS can be cut and restored while everything else keeps
// talking:
//
//   root namespace                         ns "nats"                    ns "node"
//   nginx, switcher, monitor,     link 0   nats-server          link 1  the node agent (both
//   coordinator, the CLI,      ──────────  (listens on every  ────────  colours), the blue and
//   the test                        .1  .2  address of its ns)  .5  .6   green apps (on .10)
//                 └───────────────────────────── link 2 ──────────────────┘ .9  .10
//
// The definition is the demo's, plus a first step that counts its runs and a 2 s smoke check.
// Link 1 is the node agent's only way to NATS: cutting it (`ip link set <node end> down`)
// partitions the node agent alone. Link 2 carries HTTP only (nginx, the switcher's probe and
// the monitor's scrape reach the green app through it). All addresses are in 10.213.x.0/24.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type BgEvent,
  compileServiceDefinition,
  filterSubject,
  parseEvent,
  STREAM_NAME,
} from "@bluegreen/contracts";
import type { Lease } from "@bluegreen/coordinator";
import { renderUpstream } from "@bluegreen/switcher";
import {
  type AgentProcess,
  agentConfig,
  Binaries,
  bluegreen,
  type CliResult,
  coordinatorConfig,
  findBinary,
  freePorts,
  httpGet,
  type ManagedProcess,
  makeTempDir,
  type Nginx,
  REPO_ROOT,
  runCommand,
  SAMPLE_APP_CTL,
  seedActiveRecord,
  settledAnswer,
  sourceArgs,
  spawnProcess,
  startAgent,
  startNginx,
  startTraffic,
  type TempDir,
  type TrafficLoop,
  waitFor,
  waitForHeartbeats,
} from "@bluegreen/testkit";
import { connect, type JetStreamClient, type NatsConnection } from "nats";
import { parseDocument } from "yaml";
import {
  DEMO_SERVICE,
  MonitorSource,
  renderDemoDefinition,
} from "../../scripts/demo/definition.ts";
import { demoSiteConfig } from "../../scripts/demo/site.ts";
import { readLock } from "../e2e/stack.ts";
import { createNetLab, type LinkEnd, type NetLab } from "./netns.ts";
import { countingStep } from "./node-rig.ts";

/** An event as the stream stored it, with the server's time of storing. */
export interface StoredEvent {
  readonly event: BgEvent;
  readonly storedAt: number;
  readonly seq: number;
}

export interface PartitionStack {
  readonly service: string;
  readonly lab: NetLab;
  /** The node agent's end of its link to NATS: set it down to cut the agent off. */
  readonly nodeLinkEnd: LinkEnd;
  /** Where the root namespace reaches nats-server. */
  readonly natsUrl: string;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly nodeAgent: ManagedProcess;
  readonly nodeAgentId: string;
  /** Requests through nginx all along: the monitor judges real traffic. */
  readonly traffic: TrafficLoop;
  /** Each deploy step 1 appends the deployment id here. */
  readonly stepLog: string;
  cli(args: readonly string[], timeoutMs?: number): Promise<CliResult>;
  served(): Promise<{ color: string | undefined; version: string | undefined; status: number }>;
  events(deploymentId: string): Promise<StoredEvent[]>;
  lock(): Promise<Lease | undefined>;
  stop(): Promise<void>;
}

const IDS = {
  switcher: "switcher-partition",
  node: "node-agent-netns",
  monitor: "monitor-partition",
  coordinator: "coordinator-partition",
} as const;

/** Runs the sample app's ctl inside the node's namespace (the app then lives there). */
async function ctlInNode(lab: NetLab, ns: string, args: readonly string[]): Promise<void> {
  const [command, ...rest] = lab.exec(ns, [process.execPath, SAMPLE_APP_CTL, ...args]);
  const result = await runCommand(command as string, rest, { timeoutMs: 30_000 });
  if (result.code !== 0) {
    throw new Error(`sample-app-ctl ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  }
}

export async function startPartitionStack(): Promise<PartitionStack> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const undo = async () => {
    for (const step of [...cleanups].reverse()) await step().catch(() => undefined);
  };
  try {
    const tmp: TempDir = await makeTempDir("partition");
    cleanups.push(() => tmp.remove());
    const lab = await createNetLab();
    cleanups.push(() => lab.destroy());
    const natsNs = await lab.namespace("nats");
    const nodeNs = await lab.namespace("node");
    const rootToNats = await lab.link(undefined, natsNs); // .1 root, .2 nats
    const natsToNode = await lab.link(natsNs, nodeNs); // .5 nats, .6 node
    const rootToNode = await lab.link(undefined, nodeNs); // .9 root, .10 node

    // nats-server inside its namespace, listening on every address it has there.
    const storeDir = tmp.file("nats-store");
    const nats = await spawnProcess({
      name: "nats-server (netns)",
      command: "ip",
      args: lab
        .exec(natsNs, [
          findBinary(Binaries.natsServer),
          ...["-a", "0.0.0.0", "-p", "4222", "-m", "8222", "-js", "-sd", storeDir],
        ])
        .slice(1),
      cwd: tmp.path,
    });
    cleanups.push(() => nats.stop());
    const natsHost = rootToNats.b.address;
    await waitFor(
      async () =>
        (await httpGet(`http://${natsHost}:8222/healthz?js-enabled-only=true`))?.status === 200
          ? true
          : undefined,
      { what: "nats-server in its namespace to be healthy", timeoutMs: 20_000, process: nats },
    );
    const natsUrl = `nats://${natsHost}:4222`;
    const nodeNatsUrl = `nats://${natsToNode.a.address}:4222`;

    const stateDir = tmp.file("apps");
    const upstreamDir = tmp.file("upstream");
    mkdirSync(stateDir);
    mkdirSync(upstreamDir);
    const upstreamFile = join(upstreamDir, `${DEMO_SERVICE}-active.conf`);
    const [bluePort, greenPort, nginxPort] = (await freePorts(3)) as [number, number, number];
    // Both app nodes live in the node's namespace (one host, two ports), deployed by the one
    // node agent there; nginx, the switcher and the monitor reach them over link 2.
    const nodeHost = rootToNode.b.address;
    const appDirs = {
      blue: join(stateDir, `${DEMO_SERVICE}-blue`),
      green: join(stateDir, `${DEMO_SERVICE}-green`),
    };
    for (const [color, port] of [
      ["blue", bluePort],
      ["green", greenPort],
    ] as const) {
      await ctlInNode(lab, nodeNs, ["set-version", "--dir", appDirs[color], "v1.0"]);
      await ctlInNode(lab, nodeNs, [
        ...["start", "--dir", appDirs[color], "--host", nodeHost, "--port", String(port)],
        ...["--color", color],
      ]);
      cleanups.push(() =>
        runCommand(process.execPath, [SAMPLE_APP_CTL, "stop", "--dir", appDirs[color]], {
          timeoutMs: 30_000,
        }),
      );
    }

    // The demo's definition, with green on the node's namespace address and a first step that
    // counts its runs.
    const stepLog = tmp.file("step-runs.log");
    const nginxUrl = `http://127.0.0.1:${nginxPort}`;
    const doc = parseDocument(
      renderDemoDefinition({
        stateDir,
        bluePort,
        greenPort,
        upstreamFile,
        verifyUrl: `${nginxUrl}/health`,
        source: MonitorSource.scrape,
        window: "3s",
      }),
    );
    doc.setIn(["nodes", "blue", "host"], nodeHost);
    doc.setIn(["nodes", "green", "host"], nodeHost);
    const steps = (doc.getIn(["deploy", "steps"]) as { toJSON(): unknown[] }).toJSON();
    doc.setIn(["deploy", "steps"], [countingStep(stepLog), ...steps]);
    // A smoke check that takes 2 s, so that a cut made when the node reports ready lands
    // before its smoke result and the recording of that result.
    doc.addIn(["smoke"], { name: "settle", command: ["/bin/sleep", "2"], timeout: "10s" });
    const text = doc.toString({ lineWidth: 0 });
    const definitionPath = tmp.file(`${DEMO_SERVICE}.yaml`);
    writeFileSync(definitionPath, text);
    const definition = compileServiceDefinition(text, { source: definitionPath });

    writeFileSync(upstreamFile, renderUpstream(definition, "blue", "partition-initial"));
    const nginx: Nginx = await startNginx({
      port: nginxPort,
      siteConfig: ({ host, port }) =>
        demoSiteConfig({ host, port, upstreamFile, upstream: definition.traffic.upstream }),
    });
    cleanups.push(() => nginx.stop());

    const applied = await bluegreen(natsUrl, ["apply", "-f", definitionPath]);
    if (applied.code !== 0) throw new Error(`apply exited ${applied.code}: ${applied.stderr}`);
    const nc = await connect({ servers: natsUrl, name: "partition-test" });
    cleanups.push(() => nc.close());
    const js = nc.jetstream();
    await seedActiveRecord(js, DEMO_SERVICE, { version: "v1.0" });

    const agentsDir = tmp.file("agents");
    mkdirSync(agentsDir);
    const agents: AgentProcess[] = [];
    cleanups.push(() => Promise.all(agents.map((a) => a.stop())));
    agents.push(
      await startAgent(
        "switcher",
        IDS.switcher,
        agentsDir,
        agentConfig("switcher", IDS.switcher, natsUrl, {
          services: [DEMO_SERVICE],
          nginx: { test_command: nginx.testCommand, reload_command: nginx.reloadCommand },
        }),
      ),
      await startAgent(
        "monitor",
        IDS.monitor,
        agentsDir,
        agentConfig("monitor", IDS.monitor, natsUrl, { services: [DEMO_SERVICE] }),
      ),
      await startAgent(
        "coordinator",
        IDS.coordinator,
        agentsDir,
        // A node agent cut off for the whole outage still counts as present at pre-flight.
        coordinatorConfig(natsUrl, IDS.coordinator, { heartbeat_max_age: "30s" }),
      ),
    );

    // The node agent, inside the node's namespace, reaching NATS over link 1 only.
    const nodeConfig = join(agentsDir, `${IDS.node}.json`);
    writeFileSync(
      nodeConfig,
      JSON.stringify(
        agentConfig("node-agent", IDS.node, nodeNatsUrl, {
          serves: [
            { service: DEMO_SERVICE, color: "blue" },
            { service: DEMO_SERVICE, color: "green" },
          ],
        }),
      ),
    );
    const nodeAgent = await spawnProcess({
      name: IDS.node,
      command: "ip",
      args: lab
        .exec(nodeNs, [process.execPath, ...sourceArgs("nodeAgent"), "--config", nodeConfig])
        .slice(1),
      cwd: REPO_ROOT,
    });
    cleanups.push(() => nodeAgent.stop({ timeoutMs: 10_000 }));
    await nodeAgent.waitForLine(/"to":"running"/, {
      what: "the node agent to run",
      timeoutMs: 30_000,
    });

    const traffic = startTraffic({
      url: `${nginxUrl}/api/v1/memory`,
      pauseMs: 40,
      maxDurationMs: 600_000,
    });
    cleanups.push(() => traffic.stop());

    await waitForHeartbeats(js, [IDS.switcher, IDS.node, IDS.monitor], 20_000);

    return {
      service: DEMO_SERVICE,
      lab,
      nodeLinkEnd: natsToNode.b,
      natsUrl,
      nc,
      js,
      nodeAgent,
      nodeAgentId: IDS.node,
      traffic,
      stepLog,
      cli: (args, timeoutMs) =>
        bluegreen(natsUrl, args, timeoutMs === undefined ? {} : { timeoutMs }),
      served: () => settledAnswer(`${nginxUrl}/health`),
      events: async (deploymentId) => {
        const consumer = await js.consumers.get(STREAM_NAME, {
          filterSubjects: filterSubject({ service: DEMO_SERVICE }),
        });
        const out: StoredEvent[] = [];
        const messages = await consumer.fetch({ max_messages: 10_000, expires: 1_000 });
        for await (const msg of messages) {
          const parsed = parseEvent(msg.data);
          if (parsed.ok && parsed.event.deploymentid === deploymentId) {
            out.push({
              event: parsed.event,
              storedAt: Math.floor(msg.info.timestampNanos / 1e6),
              seq: msg.seq,
            });
          }
          if (msg.info.pending === 0) break;
        }
        return out;
      },
      lock: () => readLock(js, DEMO_SERVICE),
      stop: undo,
    };
  } catch (error) {
    await undo();
    throw error;
  }
}
