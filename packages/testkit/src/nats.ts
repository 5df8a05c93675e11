// nats-server for tests, after nats.js' `nst` helper: a real server on a loopback port the
// server picks itself (read back from its ports file), a temp JetStream store, stderr kept
// for failure messages. Also a 3-node cluster for failover tests.
//
// Opt-ins (single server only):
//   BLUEGREEN_TEST_NATS_URL=nats://host:4222  use that server; stop() leaves it alone.
//   BLUEGREEN_TEST_DOCKER=1                   start nats (JetStream) with testcontainers;
//                                             image from BLUEGREEN_TEST_NATS_IMAGE (nats:2.9).

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import type { StartedNatsContainer } from "@testcontainers/nats";
import { connect, type NatsConnection } from "nats";
import { Binaries, findBinary, TestSupportError } from "./binaries.ts";
import { freePorts } from "./ports.ts";
import { type ManagedProcess, spawnProcess } from "./process.ts";
import { makeTempDir, type TempDir } from "./tmp.ts";
import { httpGet, waitFor } from "./wait.ts";

export interface NatsConnectOptions {
  readonly servers: string[];
  readonly user?: string;
  readonly pass?: string;
}

export interface NatsServer extends AsyncDisposable {
  /** How it runs: a child process, a server named by BLUEGREEN_TEST_NATS_URL, or Docker. */
  readonly kind: "process" | "external" | "docker";
  readonly url: string;
  readonly port: number;
  /** HTTP monitoring endpoint (/healthz, /jsz, /varz), for a local process. */
  readonly monitorUrl: string | undefined;
  /** JetStream store directory, for a local process. */
  readonly storeDir: string | undefined;
  /** The running process (a new one after restart()), for a local process. */
  readonly process: ManagedProcess | undefined;
  /** What to pass to `connect()` (Docker adds credentials). */
  readonly connectOptions: NatsConnectOptions;
  stop(): Promise<void>;
  /** Stops (if running) and starts again on the same port with the same store. */
  restart(): Promise<void>;
  /** Sends `signal` (default SIGKILL: a crash) and waits until the server is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartNatsOptions {
  /** Default true. */
  readonly jetstream?: boolean;
  /** Default: the server picks a free port (-p -1); kept across restart(). */
  readonly port?: number;
  /** Default: a temp dir removed on stop(); a given dir is left in place. */
  readonly storeDir?: string;
  /** Extra nats-server arguments, after the helper's own. */
  readonly args?: readonly string[];
  /** Contents of a config file, passed with -c (the command-line flags win over it). */
  readonly config?: string;
  /** Default 10 s. */
  readonly startTimeoutMs?: number;
  /** Honour BLUEGREEN_TEST_NATS_URL and BLUEGREEN_TEST_DOCKER (default true). */
  readonly allowExternal?: boolean;
}

interface PortsFile {
  nats?: string[];
  monitoring?: string[];
}

/** One nats-server child process; restartable on the same ports and store. */
class LocalNatsServer implements NatsServer {
  readonly kind = "process" as const;
  #proc: ManagedProcess | undefined;
  #port: number | undefined;
  #monitorPort: number | undefined;
  #stopped = false;

  constructor(
    readonly name: string,
    private readonly dir: TempDir,
    readonly storeDir: string | undefined,
    /** Arguments given the ports chosen so far (undefined: let the server pick). */
    private readonly buildArgs: (
      port: number | undefined,
      monitorPort: number | undefined,
    ) => string[],
    private readonly jetstream: boolean,
    private readonly startTimeoutMs: number,
  ) {}

  get process(): ManagedProcess | undefined {
    return this.#proc;
  }

  get port(): number {
    if (this.#port === undefined) throw new TestSupportError(`${this.name} has not started`);
    return this.#port;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get monitorUrl(): string | undefined {
    return this.#monitorPort === undefined ? undefined : `http://127.0.0.1:${this.#monitorPort}`;
  }

  get connectOptions(): NatsConnectOptions {
    return { servers: [this.url] };
  }

  async start(): Promise<void> {
    const command = findBinary(Binaries.natsServer);
    const args = [
      "--ports_file_dir",
      this.dir.path,
      ...this.buildArgs(this.#port, this.#monitorPort),
    ];
    const proc = await spawnProcess({ name: this.name, command, args, cwd: this.dir.path });
    this.#proc = proc;
    this.#stopped = false;
    const ports = await waitFor(() => readPortsFile(this.dir.path, proc.pid), {
      what: `the ports file ${this.dir.path}/nats-server_${proc.pid}.ports`,
      timeoutMs: this.startTimeoutMs,
      process: proc,
    });
    const client = ports.nats?.[0];
    const monitor = ports.monitoring?.[0];
    if (client === undefined || monitor === undefined) {
      await proc.stop();
      throw proc.failure(`unexpected ports file: ${JSON.stringify(ports)}`);
    }
    this.#port = Number(new URL(client).port);
    this.#monitorPort = Number(new URL(monitor).port);
    const healthz = `${this.monitorUrl}/healthz${this.jetstream ? "?js-enabled-only=true" : ""}`;
    await waitFor(async () => ((await httpGet(healthz))?.status === 200 ? true : undefined), {
      what: `${healthz} to answer 200`,
      timeoutMs: this.startTimeoutMs,
      process: proc,
    });
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await this.#proc?.stop({ signal, timeoutMs: 5_000 });
  }

  async restart(): Promise<void> {
    if (this.#proc?.running) await this.#proc.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#proc?.stop();
    await this.dir.remove();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

function readPortsFile(dir: string, pid: number): PortsFile | undefined {
  const name = readdirSync(dir).find((file) => file.endsWith(`_${pid}.ports`));
  if (name === undefined) return undefined;
  const text = readFileSync(`${dir}/${name}`, "utf8");
  return text.trim() === "" ? undefined : (JSON.parse(text) as PortsFile);
}

/** Starts a nats-server (JetStream on by default) on a free loopback port. */
export async function startNats(options: StartNatsOptions = {}): Promise<NatsServer> {
  if (options.allowExternal ?? true) {
    const external = process.env.BLUEGREEN_TEST_NATS_URL;
    if (external !== undefined && external !== "") return externalNats(external);
    if (process.env.BLUEGREEN_TEST_DOCKER === "1") return startDockerNats(options);
  }
  const jetstream = options.jetstream ?? true;
  const dir = await makeTempDir("nats");
  const storeDir = options.storeDir ?? dir.file("store");
  const configArgs: string[] = [];
  if (options.config !== undefined) {
    writeFileSync(dir.file("nats.conf"), options.config);
    configArgs.push("-c", dir.file("nats.conf"));
  }
  const server = new LocalNatsServer(
    "nats-server",
    dir,
    jetstream ? storeDir : undefined,
    (port, monitorPort) => [
      ...configArgs,
      "-a",
      "127.0.0.1",
      "-p",
      String(port ?? options.port ?? -1),
      "-m",
      String(monitorPort ?? -1),
      ...(jetstream ? ["-js", "-sd", storeDir] : []),
      ...(options.args ?? []),
    ],
    jetstream,
    options.startTimeoutMs ?? 10_000,
  );
  try {
    await server.start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

function externalNats(url: string): NatsServer {
  const parsed = new URL(url.includes("://") ? url : `nats://${url}`);
  const unsupported = (what: string) => () =>
    Promise.reject(
      new TestSupportError(`${what}() is not supported for BLUEGREEN_TEST_NATS_URL=${url}`),
    );
  return {
    kind: "external",
    url,
    port: Number(parsed.port || 4222),
    monitorUrl: undefined,
    storeDir: undefined,
    process: undefined,
    connectOptions: { servers: [url] },
    stop: async () => {},
    restart: unsupported("restart"),
    kill: unsupported("kill"),
    [Symbol.asyncDispose]: async () => {},
  };
}

/** The Docker path (BLUEGREEN_TEST_DOCKER=1), per the @testcontainers/nats docs. */
async function startDockerNats(options: StartNatsOptions): Promise<NatsServer> {
  if (options.args !== undefined || options.config !== undefined) {
    throw new TestSupportError(
      "startNats: args and config are not supported with BLUEGREEN_TEST_DOCKER=1",
    );
  }
  // Loaded only on this path, so the suites never need Docker otherwise.
  const { NatsContainer } = await import("@testcontainers/nats");
  const image = process.env.BLUEGREEN_TEST_NATS_IMAGE ?? "nats:2.9";
  let container: StartedNatsContainer;
  try {
    const definition = new NatsContainer(image);
    container = await (options.jetstream === false
      ? definition
      : definition.withJetStream()
    ).start();
  } catch (error) {
    throw new TestSupportError(
      `BLUEGREEN_TEST_DOCKER=1 but the NATS container (${image}) did not start: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let stopped = false;
  const endpoint = () => ({ host: container.getHost(), port: container.getMappedPort(4222) });
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await container.stop();
  };
  return {
    kind: "docker",
    get url() {
      return `nats://${endpoint().host}:${endpoint().port}`;
    },
    get port() {
      return endpoint().port;
    },
    monitorUrl: undefined,
    storeDir: undefined,
    process: undefined,
    get connectOptions() {
      const { user, pass } = container.getConnectionOptions();
      return {
        servers: [`${endpoint().host}:${endpoint().port}`],
        ...(user === undefined ? {} : { user }),
        ...(pass === undefined ? {} : { pass }),
      };
    },
    stop,
    // The container keeps its file system (and so the JetStream store); the mapped port may change.
    restart: async () => {
      await container.restart();
    },
    kill: () =>
      Promise.reject(new TestSupportError("kill() is not supported with BLUEGREEN_TEST_DOCKER=1")),
    [Symbol.asyncDispose]: stop,
  };
}

// ---------------------------------------------------------------------------------------
// Cluster

export interface NatsClusterNode extends NatsServer {
  readonly name: string;
}

export interface NatsCluster extends AsyncDisposable {
  /** Client URLs of all nodes, for `connect({ servers: urls })`. */
  readonly urls: readonly string[];
  readonly servers: readonly NatsClusterNode[];
  /** Crash node i (SIGKILL by default) and wait until it is gone. */
  kill(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** Start node i again (same ports and store) and wait until it has rejoined. */
  restart(index: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartNatsClusterOptions {
  /** Default 3. */
  readonly size?: number;
  /** Default 30 s (nodes start, routes connect, JetStream elects a meta leader). */
  readonly startTimeoutMs?: number;
}

interface JszMeta {
  meta_cluster?: { leader?: string; cluster_size?: number };
}

async function metaLeader(monitorUrl: string | undefined): Promise<string | undefined> {
  if (monitorUrl === undefined) return undefined;
  const response = await httpGet(`${monitorUrl}/jsz`);
  if (response?.status !== 200) return undefined;
  const leader = (JSON.parse(response.body) as JszMeta).meta_cluster?.leader;
  return leader === undefined || leader === "" ? undefined : leader;
}

/**
 * Starts `size` nats-servers on loopback, routed into one cluster with JetStream, and waits
 * until a stream with `size` replicas can be created (then deletes it).
 */
export async function startNatsCluster(
  options: StartNatsClusterOptions = {},
): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const dir = await makeTempDir("nats-cluster");
  const ports = await freePorts(size * 3);
  const clientPort = (i: number) => ports[i * 3] as number;
  const monitorPort = (i: number) => ports[i * 3 + 1] as number;
  const routePort = (i: number) => ports[i * 3 + 2] as number;
  const indices = Array.from({ length: size }, (_, i) => i);
  const nodes = await Promise.all(
    indices.map(async (i) => {
      const name = `n${i + 1}`;
      const nodeDir = await makeTempDir(`nats-${name}`);
      const storeDir = `${dir.path}/${name}`;
      const routes = indices
        .filter((j) => j !== i)
        .map((j) => `nats-route://127.0.0.1:${routePort(j)}`);
      const config = [
        `server_name: ${JSON.stringify(name)}`,
        `listen: "127.0.0.1:${clientPort(i)}"`,
        `http: "127.0.0.1:${monitorPort(i)}"`,
        `jetstream { store_dir: ${JSON.stringify(storeDir)} }`,
        "cluster {",
        '  name: "bluegreen-test"',
        `  listen: "127.0.0.1:${routePort(i)}"`,
        `  routes: [${routes.map((r) => JSON.stringify(r)).join(", ")}]`,
        "}",
        "",
      ].join("\n");
      writeFileSync(nodeDir.file("nats.conf"), config);
      const node = new LocalNatsServer(
        `nats-server ${name}`,
        nodeDir,
        storeDir,
        () => ["-c", nodeDir.file("nats.conf")],
        true,
        timeoutMs,
      );
      return Object.assign(node, { name }) as LocalNatsServer & NatsClusterNode;
    }),
  );

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(nodes.map((node) => node.stop()));
    await dir.remove();
  };
  const node = (index: number) => {
    const found = nodes[index];
    if (found === undefined) throw new TestSupportError(`no node ${index} in a cluster of ${size}`);
    return found;
  };
  const waitForMetaLeader = (members: readonly LocalNatsServer[]) =>
    waitFor(
      async () => {
        const leaders = await Promise.all(members.map((m) => metaLeader(m.monitorUrl)));
        const [first] = leaders;
        return first !== undefined && leaders.every((l) => l === first) ? first : undefined;
      },
      {
        what: `a JetStream meta leader agreed by ${members.map((m) => m.name).join(", ")}`,
        timeoutMs,
        intervalMs: 100,
      },
    );

  try {
    await Promise.all(nodes.map((n) => n.start()));
    await waitForMetaLeader(nodes);
    await probeReplicatedStream(
      nodes.map((n) => n.url),
      size,
      timeoutMs,
    );
  } catch (error) {
    const logs = nodes
      .map((n) =>
        n.process === undefined ? "" : `\n--- ${n.name} ---\n${n.process.output.lastLines(15)}`,
      )
      .join("");
    await stop();
    throw new TestSupportError(
      `NATS cluster did not become ready: ${(error as Error).message}${logs}`,
      {
        cause: error,
      },
    );
  }

  return {
    urls: nodes.map((n) => n.url),
    servers: nodes,
    kill: (index, signal) => node(index).kill(signal),
    async restart(index) {
      const target = node(index);
      await target.restart();
      await waitForMetaLeader([target]);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Creates and deletes a stream with `replicas` replicas, retrying until JetStream can. */
async function probeReplicatedStream(
  servers: string[],
  replicas: number,
  timeoutMs: number,
): Promise<void> {
  const nc: NatsConnection = await connect({ servers, timeout: 2_000 });
  try {
    const jsm = await nc.jetstreamManager();
    const name = `BLUEGREEN_TEST_PROBE_${process.pid}_${Date.now()}`;
    await waitFor(
      async () => {
        await jsm.streams.add({
          name,
          subjects: [`bluegreen-test-probe.${name}`],
          num_replicas: replicas,
        });
        return true;
      },
      { what: `JetStream to create an R${replicas} stream`, timeoutMs, intervalMs: 250 },
    );
    await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}
