// The whole bluegreen stack on loopback, as real processes from temp config files: nats-server,
// nginx (site config including the switcher's upstream file), two sample-app nodes (blue v1.0
// serving, green v1.0 idle), the service definition applied with the real CLI, the
// active-colour record (blue), the switcher, a node agent per colour, the monitor and the
// coordinator; Prometheus too with `prometheus: true`, and with `notify` the notifier posting
// the deployments' outcomes to a webhook receiver in this process. Tests can reuse it as it is. With
// `natsCluster` it runs on a cluster the caller started: every agent and the CLI get all its
// URLs, and the agents ask for the stream and the KV buckets with `replicas` replicas. With
// `nodesPerColor: N` each colour has N sample-app nodes (one directory per node), each with a
// node agent of its own, and the upstream file lists every node of the serving colour.

import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Color, compileServiceDefinition, type ServiceDefinition } from "@bluegreen/contracts";
import { renderUpstream } from "@bluegreen/switcher";
import {
  type AgentProcess,
  coordinatorConfig,
  freePorts,
  makeTempDir,
  type NatsCluster,
  type NatsServer,
  type Nginx,
  type Prometheus,
  type Received,
  seedActiveRecord,
  startAgent,
  startNats,
  startNginx,
  startPrometheus,
  startWebhookReceiver,
  type TempDir,
  waitForHeartbeats,
} from "@bluegreen/testkit";
import { connect, type JetStreamClient, type NatsConnection } from "nats";
import { parseDocument } from "yaml";
import { type AppNode, appNode, appPid, startApp, stopApp } from "./apps.ts";
import { type CliResult, runCli } from "./cli.ts";
import { DEMO_SERVICE, MonitorSource, renderDemoDefinition } from "./definition.ts";
import { demoSiteConfig } from "./site.ts";

export const INITIAL_VERSION = "v1.0";

export interface DemoStackOptions {
  /** Watch through Prometheus (started here) instead of scraping the apps. */
  readonly prometheus?: boolean;
  /** Watch with the nginx source: nginx logs each request to the switcher's reader. */
  readonly nginxSource?: boolean;
  /** Progress lines while it starts. */
  readonly log?: (line: string) => void;
  /** Default 8s. */
  readonly window?: string;
  /**
   * Run on this cluster (the caller starts and stops it) instead of a nats-server of its own.
   * The agents' `nats.servers` and the CLI's `--server` name every node.
   */
  readonly natsCluster?: NatsCluster;
  /**
   * `nats.stream.replicas` and `nats.kv_replicas` of every agent (default: the cluster's size
   * with `natsCluster`, else 1).
   */
  readonly replicas?: number;
  /** Start the agents from this single executable (`npm run release`), not the sources. */
  readonly executable?: string;
  /**
   * The switcher's `on_drift` (default its own: reapply). `report` for a caller that switches
   * nginx by hand between the agents' switches (the e2e bench's guide phase).
   */
  readonly onDrift?: "reapply" | "adopt" | "report";
  /**
   * Start the notifier too, with a webhook sink posting each deployment's outcome (and SLO
   * breaches) to a receiver in this process, which checks the signature and calls this.
   */
  readonly notify?: (delivery: Received) => void;
  /**
   * Sample-app nodes per colour (default 1), each deployed in a directory of its own
   * (`<service>-<color>-<port>`) by a node agent of its own (`node-agent-<color>-<n>`).
   */
  readonly nodesPerColor?: number;
}

export interface Listener {
  readonly name: string;
  readonly where: string;
  readonly pid: number | undefined;
}

export interface DemoStack {
  readonly service: string;
  readonly dir: string;
  readonly definitionPath: string;
  readonly definition: ServiceDefinition;
  /** The stack's nats-server; with `natsCluster`, the cluster's first node. */
  readonly nats: NatsServer;
  /** Every NATS URL the agents and the CLI are given (one, or each node of the cluster). */
  readonly natsUrls: readonly string[];
  /** The cluster given as `natsCluster` (undefined for a server of its own). */
  readonly natsCluster: NatsCluster | undefined;
  readonly nginx: Nginx;
  readonly prometheus: Prometheus | undefined;
  /** The first node of each colour. */
  readonly apps: Readonly<Record<Color, AppNode>>;
  /** Every node of each colour (`nodesPerColor` of them), in the definition's order. */
  readonly nodes: Readonly<Record<Color, readonly AppNode[]>>;
  readonly agents: readonly AgentProcess[];
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  /** `bluegreen <args> --server <this nats>` (the CLI's library entry, in this process). */
  cli(args: readonly string[]): Promise<CliResult>;
  /** Where each piece listens, with its pid (the apps' as they are now). */
  listeners(): Promise<Listener[]>;
  /** Stops everything (agents first, with SIGTERM), then removes the temp dir. */
  stop(): Promise<void>;
}

const AGENT_IDS = {
  switcher: "switcher-demo",
  blue: "node-agent-blue",
  green: "node-agent-green",
  monitor: "monitor-demo",
  coordinator: "coordinator-demo",
  notifier: "notifier-demo",
} as const;

/** What the demo's notifier routes to its webhook receiver. */
export const NOTIFIED_EVENTS = [
  "deploy.succeeded",
  "deploy.rolled_back",
  "deploy.failed",
  "slo.breached",
] as const;

/** The node agent of a colour's `index`th node: one per colour, or one per node. */
const nodeAgentId = (color: Color, index: number, perColor: number) =>
  perColor === 1 ? AGENT_IDS[color] : `${AGENT_IDS[color]}-${index + 1}`;

/**
 * The definition with `perColor` nodes per colour: the nodes listed, and the deploy steps
 * working in one directory per node (`${service}-${color}-${port}`), as a colour's nodes on
 * one machine need.
 */
function withNodesPerColor(
  text: string,
  nodes: Readonly<Record<Color, readonly AppNode[]>>,
  perColor: number,
): string {
  if (perColor === 1) return text;
  const doc = parseDocument(
    text.replaceAll('"${service}-${color}"', '"${service}-${color}-${port}"'),
  );
  for (const color of ["blue", "green"] as const)
    doc.setIn(
      ["nodes", color],
      doc.createNode(nodes[color].map((n) => ({ host: n.host, port: n.port }))),
    );
  return doc.toString({ lineWidth: 0 });
}

/** Runs the clean-ups in order, each one whatever the others did; throws the first error. */
async function runAll(steps: readonly (() => Promise<unknown>)[]): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
}

export async function startDemoStack(options: DemoStackOptions = {}): Promise<DemoStack> {
  const log = options.log ?? (() => {});
  const cleanups: (() => Promise<unknown>)[] = [];
  const undo = () => runAll([...cleanups].reverse());
  try {
    const tmp: TempDir = await makeTempDir("demo");
    cleanups.push(() => tmp.remove());
    const stateDir = tmp.file("apps");
    const upstreamDir = tmp.file("upstream");
    mkdirSync(stateDir);
    mkdirSync(upstreamDir);
    const upstreamFile = join(upstreamDir, `${DEMO_SERVICE}-active.conf`);
    const perColor = options.nodesPerColor ?? 1;
    // The apps' ports first (blue's nodes, then green's), then nginx's and the agents'.
    const ports = await freePorts(2 * perColor + 8 + 2 * (perColor - 1));
    const [nginxPort, requestLogPort, ...agentPorts] = ports.slice(2 * perColor) as [
      number,
      number,
      ...number[],
    ];
    const nginxSource = options.nginxSource === true;
    const nodes: Record<Color, AppNode[]> = { blue: [], green: [] };
    (["blue", "green"] as const).forEach((color, c) => {
      for (let i = 0; i < perColor; i++) {
        const node = appNode(stateDir, DEMO_SERVICE, color, ports[c * perColor + i] as number);
        nodes[color].push(perColor === 1 ? node : { ...node, dir: `${node.dir}-${node.port}` });
      }
    });
    const apps: Record<Color, AppNode> = {
      blue: nodes.blue[0] as AppNode,
      green: nodes.green[0] as AppNode,
    };
    const allNodes = [...nodes.blue, ...nodes.green];
    const { port: bluePort } = apps.blue;
    const { port: greenPort } = apps.green;

    const cluster = options.natsCluster;
    log(
      cluster === undefined
        ? `starting nats-server and the ${allNodes.length} sample-app nodes (blue, green: v1.0)`
        : `starting the ${allNodes.length} sample-app nodes (blue, green: v1.0) on the given NATS cluster`,
    );
    const [nats] = await Promise.all([
      cluster?.servers[0] ?? startNats({ jetstream: true, allowExternal: false }),
      ...allNodes.map((node) => startApp(node, INITIAL_VERSION)),
    ]);
    if (nats === undefined) throw new Error("the NATS cluster has no node");
    if (cluster === undefined) cleanups.push(() => nats.stop());
    const natsUrls: readonly string[] = cluster?.urls ?? [nats.url];
    const replicas = options.replicas ?? cluster?.servers.length ?? 1;
    cleanups.push(() => Promise.all(allNodes.map((node) => stopApp(node))));

    let prometheus: Prometheus | undefined;
    if (options.prometheus === true) {
      log("starting Prometheus (scraping every node every 1 s)");
      prometheus = await startPrometheus({
        scrapeTargets: allNodes.map((node) => `${node.host}:${node.port}`),
        scrapeInterval: "1s",
        waitForFirstScrape: false,
      });
      const started = prometheus;
      cleanups.push(() => started.stop());
    }

    const nginxUrl = `http://127.0.0.1:${nginxPort}`;
    const rendered = renderDemoDefinition({
      stateDir,
      bluePort,
      greenPort,
      upstreamFile,
      verifyUrl: `${nginxUrl}/health`,
      source: nginxSource
        ? MonitorSource.nginx
        : prometheus === undefined
          ? MonitorSource.scrape
          : MonitorSource.prometheus,
      ...(prometheus === undefined ? {} : { prometheusUrl: prometheus.url }),
      ...(options.window === undefined ? {} : { window: options.window }),
    });
    const text = withNodesPerColor(rendered, nodes, perColor);
    const definitionPath = tmp.file(`${DEMO_SERVICE}.yaml`);
    writeFileSync(definitionPath, text);
    const definition = compileServiceDefinition(text, { source: definitionPath });

    // Blue serves from the start: the upstream file names it, and so does the record below.
    writeFileSync(upstreamFile, renderUpstream(definition, "blue", "demo-initial"));
    log("starting nginx (its site includes the switcher's upstream file: blue)");
    const nginx = await startNginx({
      port: nginxPort,
      siteConfig: ({ host, port }) =>
        demoSiteConfig({
          host,
          port,
          upstreamFile,
          upstream: definition.traffic.upstream,
          requestLogPort: nginxSource ? requestLogPort : undefined,
        }),
    });
    cleanups.push(() => nginx.stop());

    const cli = (args: readonly string[]) => runCli(natsUrls.join(","), args);
    log(`bluegreen apply -f ${definitionPath}`);
    const applied = await cli(["apply", "-f", definitionPath]);
    if (applied.code !== 0) {
      throw new Error(
        `bluegreen apply exited ${applied.code}: ${applied.stderr || applied.stdout}`,
      );
    }

    const nc = await connect({ servers: [...natsUrls], name: "bluegreen-demo" });
    cleanups.push(() => nc.close());
    const js = nc.jetstream();
    await seedActiveRecord(js, DEMO_SERVICE, { version: INITIAL_VERSION });

    log(
      `starting the agents: switcher, node agents (blue, green${perColor === 1 ? "" : `: ${perColor} each`}), monitor, coordinator`,
    );
    const natsConfig = {
      servers: [...natsUrls],
      ...(replicas === 1 ? {} : { stream: { replicas }, kv_replicas: replicas }),
    };
    const common = (i: number) => ({
      nats: natsConfig,
      http: { host: "127.0.0.1", port: agentPorts[i] ?? 0 },
      heartbeat_interval: "1s",
      log: { level: "info" },
    });
    const agentsDir = tmp.file("agents");
    mkdirSync(agentsDir);
    const agents: AgentProcess[] = [];
    cleanups.push(() => Promise.all(agents.map((a) => a.stop())));
    const startOpts = options.executable === undefined ? {} : { executable: options.executable };
    const started = await Promise.allSettled([
      startAgent(
        "switcher",
        AGENT_IDS.switcher,
        agentsDir,
        {
          role: "switcher",
          agent_id: AGENT_IDS.switcher,
          ...common(0),
          services: [DEMO_SERVICE],
          nginx: { test_command: nginx.testCommand, reload_command: nginx.reloadCommand },
          ...(options.onDrift === undefined ? {} : { on_drift: options.onDrift }),
          ...(nginxSource
            ? {
                request_logs: [
                  { service: DEMO_SERVICE, listen: `udp://127.0.0.1:${requestLogPort}` },
                ],
              }
            : {}),
        },
        startOpts,
      ),
      ...(["blue", "green"] as const).flatMap((color, c) =>
        nodes[color].map((node, i) =>
          startAgent(
            "nodeAgent",
            nodeAgentId(color, i, perColor),
            agentsDir,
            {
              role: "node-agent",
              agent_id: nodeAgentId(color, i, perColor),
              // The first node's agent of each colour on ports 1 and 2, the others from 6 on.
              ...common(i === 0 ? 1 + c : 5 + c * (perColor - 1) + i),
              serves: [
                {
                  service: DEMO_SERVICE,
                  color,
                  ...(perColor === 1 ? {} : { nodes: [`${node.host}:${node.port}`] }),
                },
              ],
            },
            startOpts,
          ),
        ),
      ),
      startAgent(
        "monitor",
        AGENT_IDS.monitor,
        agentsDir,
        {
          role: "monitor",
          agent_id: AGENT_IDS.monitor,
          ...common(3),
          services: [DEMO_SERVICE],
        },
        startOpts,
      ),
      startAgent(
        "coordinator",
        AGENT_IDS.coordinator,
        agentsDir,
        {
          ...coordinatorConfig(nats.url, AGENT_IDS.coordinator),
          ...common(4),
        },
        startOpts,
      ),
    ]);
    for (const result of started) if (result.status === "fulfilled") agents.push(result.value);
    const notify = options.notify;
    let receiverUrl: string | undefined;
    if (notify !== undefined && started.every((r) => r.status === "fulfilled")) {
      log("starting the notifier, posting outcomes to a webhook receiver in this process");
      const secret = randomBytes(24).toString("hex");
      const secretFile = tmp.file("notifier-hook.key");
      writeFileSync(secretFile, secret, { mode: 0o600 });
      const receiver = await startWebhookReceiver({ secret, onReceive: notify });
      cleanups.push(() => receiver.stop());
      receiverUrl = receiver.url;
      agents.push(
        await startAgent(
          "notifier",
          AGENT_IDS.notifier,
          agentsDir,
          {
            role: "notifier",
            agent_id: AGENT_IDS.notifier,
            ...common(5),
            sinks: [
              {
                name: "demo-hook",
                type: "webhook",
                url: `${receiver.url}/bluegreen`,
                signing_secret: { file: secretFile },
              },
            ],
            routes: [
              { services: [DEMO_SERVICE], events: [...NOTIFIED_EVENTS], sinks: ["demo-hook"] },
            ],
          },
          startOpts,
        ),
      );
    }
    const failed = started.find((r) => r.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;

    // The coordinator refuses a deploy while a needed agent has no fresh heartbeat.
    await waitForHeartbeats(js, [
      AGENT_IDS.switcher,
      ...(["blue", "green"] as const).flatMap((color) =>
        nodes[color].map((_, i) => nodeAgentId(color, i, perColor)),
      ),
      AGENT_IDS.monitor,
    ]);

    const listeners = async (): Promise<Listener[]> => [
      ...(cluster === undefined
        ? [{ name: "nats-server", where: nats.url, pid: nats.process?.pid }]
        : cluster.servers.map((node) => ({
            name: `nats-server ${node.name}`,
            where: node.url,
            pid: node.process?.pid,
          }))),
      { name: "nginx", where: nginxUrl, pid: nginx.masterPid },
      ...(await Promise.all(
        allNodes.map(async (node) => ({
          name: perColor === 1 ? `app ${node.color}` : `app ${node.color} :${node.port}`,
          where: node.url,
          pid: await appPid(node),
        })),
      )),
      ...(prometheus === undefined
        ? []
        : [{ name: "prometheus", where: prometheus.url, pid: prometheus.process.pid }]),
      ...agents.map((a) => ({
        name: a.name,
        // The URL the agent logged once its HTTP endpoint listened (each has its own port).
        where: a.url === "" ? "(not listening yet)" : `${a.url}/metrics`,
        pid: a.process.pid,
      })),
      ...(receiverUrl === undefined
        ? []
        : [{ name: "webhook receiver", where: receiverUrl, pid: process.pid }]),
    ];

    return {
      service: DEMO_SERVICE,
      dir: tmp.path,
      definitionPath,
      definition,
      nats,
      natsUrls,
      natsCluster: cluster,
      nginx,
      prometheus,
      apps,
      nodes,
      agents,
      nc,
      js,
      cli,
      listeners,
      stop: undo,
    };
  } catch (error) {
    await undo().catch(() => undefined);
    throw error;
  }
}
