// The suites' own NATS client side: the stream and the buckets as the agents create them, a
// bus to publish as an agent would, a live log of every event, the stream read back, the
// active-colour record a stack starts from, and waiting for the agents' heartbeats.

import {
  type ActiveRecord,
  type AgentRole,
  type AnyBgEvent,
  Buckets,
  type Color,
  parseEvent,
  STREAM_NAME,
} from "@bluegreen/contracts";
import {
  type BucketHandles,
  Bus,
  createJson,
  createLogger,
  ensureBuckets,
  ensureStream,
  isAlive,
  readHeartbeats,
} from "@bluegreen/runtime";
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from "nats";
import { EventLog } from "./events.ts";
import { waitFor } from "./wait.ts";

export interface TestClient {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly kv: BucketHandles;
  /** Publishes as a test agent would (`role`/`agentId` of the options). */
  readonly bus: Bus;
  /** Every event on `bluegreen.>` since the client connected. */
  readonly log: EventLog;
  close(): Promise<void>;
}

export interface ConnectClientOptions {
  /** The bus publishes as this role (default switcher, agent id `test-<role>`). */
  readonly role?: AgentRole;
  /** The stream's max age (default 90 days). */
  readonly maxAgeMs?: number;
}

/** Connects to `url`, creates the stream and the buckets (R1) and opens the event log. */
export async function connectClient(
  url: string,
  opts: ConnectClientOptions = {},
): Promise<TestClient> {
  const nc = await connect({ servers: url });
  const logger = createLogger({ level: "silent" });
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, { maxAgeMs: opts.maxAgeMs ?? 90 * 24 * 3_600_000, replicas: 1 });
  const js = nc.jetstream();
  const kv = await ensureBuckets(js, { replicas: 1 });
  const role = opts.role ?? "switcher";
  const bus = new Bus({ nc, role, agentId: `test-${role}`, logger });
  const log = new EventLog(nc);
  return {
    nc,
    js,
    jsm,
    kv,
    bus,
    log,
    close: async () => {
      await bus.stop();
      await nc.drain();
    },
  };
}

/** Every event in the audit stream, in stream order (read message by message). */
export async function streamEvents(jsm: JetStreamManager): Promise<AnyBgEvent[]> {
  const info = await jsm.streams.info(STREAM_NAME);
  const out: AnyBgEvent[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    try {
      const msg = await jsm.streams.getMessage(STREAM_NAME, { seq });
      const parsed = parseEvent(msg.data);
      if (parsed.ok) out.push(parsed.event as AnyBgEvent);
    } catch {
      // a deleted message
    }
  }
  return out;
}

/** Creates the service's first active-colour record (`reason: initial`), as a stack starts. */
export async function seedActiveRecord(
  js: JetStreamClient,
  service: string,
  opts: { color?: Color; version: string },
): Promise<void> {
  const record: ActiveRecord = {
    color: opts.color ?? "blue",
    version: opts.version,
    switchedAt: new Date().toISOString(),
    reason: "initial",
    previous: null,
  };
  await createJson(await js.views.kv(Buckets.active), service, record);
}

/** Waits until each agent id has a fresh heartbeat (the coordinator's pre-flight needs them). */
export async function waitForHeartbeats(
  js: JetStreamClient,
  agentIds: readonly string[],
  timeoutMs = 15_000,
): Promise<void> {
  const agentsKv = await js.views.kv(Buckets.agents);
  await waitFor(
    async () => {
      const alive = new Set(
        (await readHeartbeats(agentsKv))
          .filter((hb) => isAlive(hb, 5_000))
          .map((hb) => hb.data.agentId),
      );
      return agentIds.every((id) => alive.has(id)) ? true : undefined;
    },
    { what: "a heartbeat from every agent", timeoutMs, intervalMs: 200 },
  );
}
