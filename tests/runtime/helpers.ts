// Shared fixtures for the runtime suites: a real nats-server, a connected bus, a log capture,
// and a reader for what the BLUEGREEN stream holds.

import { Writable } from "node:stream";
import {
  type AnyBgEvent,
  createEvent,
  type EventDataInput,
  parseEvent,
  STREAM_NAME,
} from "@bluegreen/contracts";
import { Bus, connectNats, createLogger, ensureStream, type Logger } from "@bluegreen/runtime";
import { type NatsServer, startNats, waitFor, watchDefinitionYaml } from "@bluegreen/testkit";
import type { NatsConnection } from "nats";

export interface LogCapture {
  logger: Logger;
  /** For a logger made elsewhere (runAgent's `logDestination`). */
  destination: Writable;
  lines: string[];
  text(): string;
  records(): Record<string, unknown>[];
}

export function captureLogs(level: "trace" | "debug" | "info" = "debug"): LogCapture {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level, destination });
  return {
    logger,
    destination,
    lines,
    text: () => lines.join("\n"),
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

export interface Fixture {
  server: NatsServer;
  nc: NatsConnection;
  bus: Bus;
  logs: LogCapture;
  /** Every event in the stream, optionally only on subjects ending with `suffix`. */
  events(suffix?: string): Promise<StoredEvent[]>;
  close(): Promise<void>;
}

export interface StoredEvent {
  seq: number;
  subject: string;
  event: AnyBgEvent | undefined;
  raw: string;
}

export async function readStream(nc: NatsConnection, suffix?: string): Promise<StoredEvent[]> {
  const jsm = await nc.jetstreamManager();
  const { state } = await jsm.streams.info(STREAM_NAME);
  const out: StoredEvent[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const sm = await jsm.streams.getMessage(STREAM_NAME, { seq }).catch(() => undefined);
    if (sm === undefined) continue;
    if (suffix !== undefined && !sm.subject.endsWith(suffix)) continue;
    const parsed = parseEvent(sm.data, { subject: sm.subject });
    out.push({
      seq,
      subject: sm.subject,
      event: parsed.ok ? (parsed.event as AnyBgEvent) : undefined,
      raw: new TextDecoder().decode(sm.data),
    });
  }
  return out;
}

export async function startFixture(
  opts: { role?: string; agentId?: string; server?: NatsServer } = {},
): Promise<Fixture> {
  const server = opts.server ?? (await startNats({ jetstream: true }));
  const logs = captureLogs();
  const nc = await connectNats(
    { servers: [server.url] },
    { name: "runtime-test", logger: logs.logger, reconnectTimeWaitMs: 100 },
  );
  const stream = { maxAgeMs: 3_600_000, replicas: 1 };
  await ensureStream(await nc.jetstreamManager(), stream);
  const bus = new Bus({
    nc,
    role: opts.role ?? "coordinator",
    agentId: opts.agentId ?? "test-1",
    logger: logs.logger,
    stream,
  });
  return {
    server,
    nc,
    bus,
    logs,
    events: (suffix) => readStream(nc, suffix),
    close: async () => {
      await bus.stop();
      await nc.close();
      if (opts.server === undefined) await server.stop();
    },
  };
}

export function deployRequested(
  service: string,
  version: string,
  id?: string,
): ReturnType<typeof createEvent<"deploy.requested">> {
  const data: EventDataInput<"deploy.requested"> = { version, requestedBy: "ci" };
  return createEvent("deploy.requested", {
    service,
    source: "ci/test",
    data,
    ...(id === undefined ? {} : { id }),
  });
}

/** Polls until `probe` returns a value (default 10 s). */
export function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  return waitFor(probe, { what, timeoutMs, intervalMs: 50 });
}

/** A minimal valid service definition, as `bluegreen apply` would store it. */
export const definitionYaml = (service: string, port = 8000) =>
  watchDefinitionYaml({
    service,
    blue: `10.0.0.10:${port}`,
    green: `10.0.0.11:${port}`,
    monitor: {
      source: { prometheus: "http://localhost:9090" },
      slos: [{ name: "error-ratio", query: "sum(rate(http_requests_total[1m]))", max: 0.05 }],
    },
  });
