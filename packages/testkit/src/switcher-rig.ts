// The switcher's world for end-to-end suites: NATS (JetStream), two sample apps (blue v1.0,
// green v1.1), a real nginx serving the example emily site config, the service definition in
// KV, the active-colour record, and the switcher agent itself (in this process, through
// runtime's runAgent, exactly as main.ts starts it).

import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { get as httpGet } from "node:http";
import {
  type ActiveRecord,
  type AnyBgEvent,
  type BgEvent,
  type Color,
  compileServiceDefinition,
  createEvent,
  type EventDataInput,
  encodeEvent,
  eventSubject,
  parseEvent,
  type ServiceDefinition,
  STREAM_NAME,
} from "@bluegreen/contracts";
import {
  type BucketHandles,
  ensureBuckets,
  ensureStream,
  putDefinition,
  type RunningAgent,
  readJson,
  runAgent,
} from "@bluegreen/runtime";
import { colorOfFile, renderUpstream, startSwitcher } from "@bluegreen/switcher";
import { connect, type JetStreamClient, type NatsConnection } from "nats";
import { stringify } from "yaml";
import { seedActiveRecord } from "./client.ts";
import { type NatsServer, startNats } from "./nats.ts";
import { type Nginx, startNginx } from "./nginx.ts";
import { REPO_ROOT } from "./paths.ts";
import { freePort } from "./ports.ts";
import { type SampleAppHandle, startSampleApp } from "./sample-app.ts";
import { makeTempDir, type TempDir } from "./tmp.ts";
import { waitFor } from "./wait.ts";

export const RIG_SERVICE = "emily";
const EXAMPLE_SITE = `${REPO_ROOT}/examples/emily/nginx-site.conf`;
const EXAMPLE_INCLUDE = "include /etc/nginx/bluegreen/emily-active.conf;";

/** The example site config, pointed at this rig's upstream file and port. */
export function exampleSite(upstreamFile: string, host: string, port: number): string {
  const text = readFileSync(EXAMPLE_SITE, "utf8");
  if (!text.includes(EXAMPLE_INCLUDE) || !text.includes("listen 80;")) {
    throw new Error(`${EXAMPLE_SITE} no longer has the include line or 'listen 80;'`);
  }
  return text
    .replace(EXAMPLE_INCLUDE, `include ${JSON.stringify(upstreamFile)};`)
    .replace("listen 80;", `listen ${host}:${port};`);
}

export interface ThroughNginx {
  status: number;
  /** The X-Bluegreen-Generation header: which upstream file the answering worker loaded. */
  generation: string | undefined;
  /** The `color` of the app's /health JSON (undefined when the body is not the app's). */
  color: string | undefined;
  upstream: string | undefined;
}

/** One GET on a new connection (no pooled keep-alive connection to an exiting worker). */
export function getOnce(url: string): Promise<{
  status: number;
  body: string;
  upstream: string | undefined;
  generation: string | undefined;
}> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false, timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        const one = (name: string) => {
          const value = res.headers[name];
          return Array.isArray(value) ? value[0] : value;
        };
        resolve({
          status: res.statusCode ?? 0,
          body,
          upstream: one("x-upstream-addr"),
          generation: one("x-bluegreen-generation"),
        });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within 5 s`)));
    req.on("error", reject);
  });
}

export type Answer = BgEvent<"switch.done"> | BgEvent<"switch.failed">;

/** Everything in the stream, read by an ordered consumer from the first message on. */
export class StreamLog {
  readonly events: AnyBgEvent[] = [];
  readonly raw: { subject: string; data: string }[] = [];
  private stopped = false;
  private iterator: { stop(): void } | undefined;

  static async open(js: JetStreamClient): Promise<StreamLog> {
    const log = new StreamLog();
    const consumer = await js.consumers.get(STREAM_NAME, { filterSubjects: "bluegreen.>" });
    const messages = await consumer.consume();
    log.iterator = messages;
    void (async () => {
      for await (const m of messages) {
        if (log.stopped) break;
        const data = m.string();
        log.raw.push({ subject: m.subject, data });
        const parsed = parseEvent(data);
        if (parsed.ok) log.events.push(parsed.event as AnyBgEvent);
      }
    })();
    return log;
  }

  find<N extends AnyBgEvent["type"]>(
    type: N,
    predicate: (e: Extract<AnyBgEvent, { type: N }>) => boolean = () => true,
  ): Extract<AnyBgEvent, { type: N }>[] {
    return this.events.filter(
      (e): e is Extract<AnyBgEvent, { type: N }> =>
        e.type === type && predicate(e as Extract<AnyBgEvent, { type: N }>),
    );
  }

  async waitFor<N extends AnyBgEvent["type"]>(
    type: N,
    predicate: (e: Extract<AnyBgEvent, { type: N }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<AnyBgEvent, { type: N }>> {
    return waitFor(() => this.find(type, predicate)[0], {
      what: `a ${type} event in the stream`,
      timeoutMs,
      intervalMs: 2,
    });
  }

  stop(): void {
    this.stopped = true;
    this.iterator?.stop();
  }
}

export interface AgentHandle {
  running: RunningAgent<"switcher">;
  /** The agent's log lines, parsed. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export interface RigOptions {
  /** Seconds nginx may take to show the target (the definition's traffic.verify.timeout). */
  verifyTimeout?: string;
  /** Nginx worker processes (default 1). */
  workerProcesses?: number;
  keepalive?: number;
}

export class SwitcherRig implements AsyncDisposable {
  private readonly agents = new Set<AgentHandle>();
  private requestSeq = 0;

  private constructor(
    readonly nats: NatsServer,
    readonly nginx: Nginx,
    readonly blue: SampleAppHandle,
    readonly green: SampleAppHandle,
    readonly dir: TempDir,
    readonly upstreamFile: string,
    readonly def: Readonly<ServiceDefinition>,
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly kv: BucketHandles,
    readonly log: StreamLog,
  ) {}

  /** Given blue (v1.0) serves through nginx and the record says so (revision 1). */
  static async start(opts: RigOptions = {}): Promise<SwitcherRig> {
    const cleanup: Array<() => Promise<unknown>> = [];
    try {
      const dir = await makeTempDir("switcher");
      cleanup.push(() => dir.remove());
      const [nats, blue, green] = await Promise.all([
        startNats({ jetstream: true }),
        startSampleApp({ color: "blue", version: "v1.0" }),
        startSampleApp({ color: "green", version: "v1.1" }),
      ]);
      cleanup.push(
        () => nats.stop(),
        () => blue.stop(),
        () => green.stop(),
      );
      const upstreamFile = dir.file("emily-active.conf");
      const nginxPort = await freePort("127.0.0.1");
      const definition = {
        service: RIG_SERVICE,
        nodes: {
          blue: { host: blue.host, port: blue.port },
          green: { host: green.host, port: green.port },
        },
        deploy: { workdir: "/opt/emily", steps: [["true"]] },
        readiness: { path: "/health", interval: "100ms", timeout: "5s" },
        traffic: {
          upstream: "emily_active",
          file: upstreamFile,
          verify: {
            url: `http://127.0.0.1:${nginxPort}/health`,
            timeout: opts.verifyTimeout ?? "3s",
          },
          keepalive: opts.keepalive ?? 0,
        },
        monitor: {
          source: { scrape: true },
          slos: [{ name: "errors", scrape: { errorRatio: {} }, max: 0.05 }],
        },
      };
      const yamlText = stringify(definition);
      const def = compileServiceDefinition(yamlText);
      await writeFile(upstreamFile, renderUpstream(def, "blue", "initial"));
      const nginx = await startNginx({
        port: nginxPort,
        workerProcesses: opts.workerProcesses ?? 1,
        siteConfig: ({ host, port }) => exampleSite(upstreamFile, host, port),
      });
      cleanup.push(() => nginx.stop());
      const nc = await connect({ servers: nats.url });
      cleanup.push(() => nc.close());
      const jsm = await nc.jetstreamManager();
      const js = nc.jetstream();
      await ensureStream(jsm, { maxAgeMs: 0, replicas: 1 });
      const kv = await ensureBuckets(js, { replicas: 1 });
      await putDefinition(kv.services, yamlText);
      await seedActiveRecord(js, RIG_SERVICE, { version: "v1.0" });
      const log = await StreamLog.open(js);
      return new SwitcherRig(nats, nginx, blue, green, dir, upstreamFile, def, nc, js, kv, log);
    } catch (err) {
      for (const step of cleanup.reverse()) await step().catch(() => undefined);
      throw err;
    }
  }

  /** Starts the switcher agent (as main.ts does, with the test nginx's commands). */
  async startAgent(
    over: {
      on_drift?: "reapply" | "adopt" | "report";
      services?: string[];
      /** The running drift check's period (the agent's default when absent). */
      drift_interval?: string;
    } = {},
  ): Promise<AgentHandle> {
    const logs: Record<string, unknown>[] = [];
    const running = await runAgent({
      role: "switcher",
      config: {
        role: "switcher",
        agent_id: "switcher-test",
        nats: { servers: [this.nats.url] },
        services: over.services ?? [RIG_SERVICE],
        nginx: {
          test_command: [...this.nginx.testCommand],
          reload_command: [...this.nginx.reloadCommand],
          command_timeout: "10s",
        },
        on_drift: over.on_drift ?? "reapply",
        ...(over.drift_interval === undefined ? {} : { drift_interval: over.drift_interval }),
        log: { level: "info" },
      },
      start: startSwitcher,
      exitOnShutdown: false,
      logDestination: {
        write: (line: string) => {
          try {
            logs.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            logs.push({ line });
          }
        },
      },
    });
    const handle: AgentHandle = {
      running,
      logs,
      stop: async () => {
        if (!this.agents.delete(handle)) return;
        await running.shutdown("test");
      },
    };
    this.agents.add(handle);
    return handle;
  }

  /** Publishes a `switch.requested` as a coordinator would; returns the event. */
  async request(
    data: EventDataInput<"switch.requested">,
    opts: { deploymentId?: string; id?: string } = {},
  ): Promise<BgEvent<"switch.requested">> {
    this.requestSeq++;
    const event = createEvent("switch.requested", {
      service: RIG_SERVICE,
      source: "bluegreen/test/switcher-suite",
      data,
      deploymentId: opts.deploymentId,
      id: opts.id ?? `req-${process.pid}-${Date.now()}-${this.requestSeq}`,
    });
    await this.js.publish(eventSubject(RIG_SERVICE, "switch.requested"), encodeEvent(event), {
      msgID: event.id,
    });
    return event;
  }

  /** Publishes raw bytes on the service's switch.requested subject. */
  async publishRaw(payload: string): Promise<void> {
    await this.js.publish(
      eventSubject(RIG_SERVICE, "switch.requested"),
      new TextEncoder().encode(payload),
    );
  }

  /** The switch.done or switch.failed answering a request, from the stream. */
  async answer(requestId: string, timeoutMs = 15_000): Promise<Answer> {
    return waitFor(
      () =>
        this.log.events.find(
          (e): e is Answer =>
            (e.type === "bluegreen.switch.done" || e.type === "bluegreen.switch.failed") &&
            (e.id === `${requestId}.done` || e.id === `${requestId}.failed`),
        ),
      { what: `the answer to ${requestId}`, timeoutMs, intervalMs: 2 },
    );
  }

  /** Requests a switch and waits for its answer. */
  async switchTo(
    to: Color,
    opts: {
      expectedRevision?: number;
      deploymentId?: string;
      reason?: "promote" | "rollback" | "manual";
      deadline?: string;
    } = {},
  ): Promise<Answer> {
    const expectedRevision = opts.expectedRevision ?? (await this.active()).revision;
    const req = await this.request(
      {
        to,
        reason: opts.reason ?? "manual",
        expectedRevision,
        ...(opts.deadline === undefined ? {} : { deadline: opts.deadline }),
      },
      opts.deploymentId === undefined ? {} : { deploymentId: opts.deploymentId },
    );
    return this.answer(req.id);
  }

  async active(): Promise<{ record: ActiveRecord | undefined; revision: number }> {
    const entry = await readJson<ActiveRecord>(this.kv.active, RIG_SERVICE);
    return { record: entry?.value, revision: entry?.revision ?? 0 };
  }

  /** What a user sees: GET /health through nginx, on a new connection. */
  async throughNginx(path = "/health"): Promise<ThroughNginx> {
    const answer = await getOnce(`${this.nginx.url}${path}`);
    let color: string | undefined;
    try {
      color = (JSON.parse(answer.body) as { color?: string }).color;
    } catch {
      color = undefined;
    }
    return {
      status: answer.status,
      color,
      upstream: answer.upstream,
      generation: answer.generation,
    };
  }

  /**
   * Polls through nginx until `consecutive` answers in a row come from `color`. After a
   * reload nginx's master lets the old workers accept for ~100 ms more (docs/switcher.md),
   * so the first answers after switch.done may still come from the previous colour.
   */
  async untilServes(color: Color, consecutive = 10, timeoutMs = 2_000): Promise<ThroughNginx> {
    let streak = 0;
    return waitFor(
      async () => {
        const seen = await this.throughNginx();
        streak = seen.status === 200 && seen.color === color ? streak + 1 : 0;
        return streak >= consecutive ? seen : undefined;
      },
      {
        what: `${consecutive} answers in a row from ${color} through nginx`,
        timeoutMs,
        intervalMs: 5,
      },
    );
  }

  /** How many reloads nginx has received (its error log notes each SIGHUP). */
  reloads(): number {
    return readFileSync(this.nginx.errorLogPath, "utf8").split("(SIGHUP) received").length - 1;
  }

  fileColor(): Color | null {
    return colorOfFile(readFileSync(this.upstreamFile, "utf8"), this.def).color;
  }

  /** Points traffic at `color` by hand (file, test, reload), as an operator might. */
  async handSwitch(color: Color): Promise<void> {
    await writeFile(this.upstreamFile, renderUpstream(this.def, color, `hand-${Date.now()}`));
    await this.nginx.reload();
  }

  async stop(): Promise<void> {
    for (const agent of [...this.agents]) await agent.stop().catch(() => undefined);
    this.log.stop();
    await this.nc.close().catch(() => undefined);
    await Promise.allSettled([this.nginx.stop(), this.blue.stop(), this.green.stop()]);
    await this.nats.stop();
    await this.dir.remove();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
