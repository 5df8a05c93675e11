import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BgError, compileServiceDefinition } from "@bluegreen/contracts";
import { createLogger, type StoredRecord } from "@bluegreen/runtime";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newWatch, type WatchState } from "./decide/state.ts";
import type { Command, PendingEvent } from "./decide.ts";
import { createMonitorMetrics } from "./metrics.ts";
import { Monitor, type MonitorDeps } from "./monitor.ts";

// The monitor's shell without NATS: the transition runner, the watch loop and the store, with
// a store that fails the way KV does while NATS is away and a bus that records what it
// publishes. The node's /metrics is a small HTTP server on loopback.

const METRICS = [
  "# TYPE http_requests_total counter",
  'http_requests_total{code="200"} 10',
  "",
].join("\n");

let server: Server;
let instance: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.setHeader("content-type", "text/plain; version=0.0.4");
    res.end(METRICS);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  instance = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function monitorSection() {
  return compileServiceDefinition(`
service: emily
nodes:
  blue: { host: 127.0.0.1, port: 8001 }
  green: { host: 127.0.0.1, port: 8002 }
deploy: { workdir: /opt/emily, steps: [["true"]] }
traffic: { upstream: emily_active, file: /tmp/emily.conf, verify: { url: "http://127.0.0.1/health" } }
monitor:
  window: 10s
  interval: 1s
  source: { scrape: true }
  slos:
    - { name: error-ratio, query: "unused", scrape: { errorRatio: {} }, max: 0.05, no_traffic: pass }
`).monitor;
}

function storedWatch(deploymentId: string, extra: Partial<WatchState> = {}): WatchState {
  return {
    ...newWatch({
      service: "emily",
      deploymentId,
      color: "green",
      instances: [instance],
      monitor: monitorSection(),
      now: Date.now(),
      owner: "monitor/m1",
    }),
    announced: true,
    ...extra,
  };
}

type Record_ = StoredRecord<WatchState, Command>;

/**
 * KV in memory, compare-and-set on the revision, through JSON as KV would. `fail` decides,
 * per write, whether it is refused (`refuse`: NATS away) or lands with its answer lost (`lose`).
 */
function memoryStore(
  initial?: Record_,
  fail: (state: WatchState) => "refuse" | "lose" | undefined = () => undefined,
) {
  let stored: Record_ | undefined = initial;
  const writes: Record_[] = [];
  const store: MonitorDeps["store"] = {
    load: async () => (stored === undefined ? undefined : JSON.parse(JSON.stringify(stored))),
    save: async (service, state, pending, revision) => {
      if (revision !== stored?.revision)
        throw new BgError("BG_ERR_KV_CONFLICT", {
          key: service,
          bucket: "w",
          expected: revision ?? "absent",
        });
      const how = fail(state);
      if (how === "refuse") throw new Error("CONNECTION_CLOSED");
      stored = JSON.parse(JSON.stringify({ state, pending, revision: (revision ?? 0) + 1 }));
      writes.push(stored as Record_);
      if (how === "lose") throw new Error("TIMEOUT");
      return (revision ?? 0) + 1;
    },
    services: async () => (stored === undefined ? [] : ["emily"]),
  };
  return { store, writes, current: () => stored };
}

/** A bus that records every event it publishes; `refuse` makes the next publishes fail. */
function recordingBus() {
  const published: PendingEvent[] = [];
  let refuse = 0;
  const bus: MonitorDeps["bus"] = {
    emit: (async (name: PendingEvent["name"], opts: Omit<PendingEvent, "name">) => {
      if (refuse > 0) {
        refuse--;
        throw new Error("CONNECTION_CLOSED");
      }
      published.push({ name, ...opts } as PendingEvent);
      return {};
    }) as never,
    consume: (async () => ({ stop: async () => undefined })) as never,
  };
  return { bus, published, refuseNext: (n: number) => (refuse = n) };
}

function monitorWith(store: MonitorDeps["store"], bus: MonitorDeps["bus"]): Monitor {
  return new Monitor({
    config: { agent_id: "m1", services: ["emily"], prometheus_url: undefined },
    bus,
    store,
    definitions: { get: () => undefined, require: () => ({}) as never, list: () => [] },
    metrics: createMonitorMetrics(new Registry()),
    logger: createLogger({ level: "silent" }),
  });
}

/**
 * Runs a monitor over `store` until one of its `writes` has counted `checks` rounds, then runs
 * `then` against it, and stops it.
 */
async function whenChecked(
  memory: Pick<ReturnType<typeof memoryStore>, "store" | "writes">,
  checks: number,
  then: (monitor: Monitor) => void,
): Promise<void> {
  const monitor = monitorWith(memory.store, recordingBus().bus);
  await monitor.start();
  try {
    await expect
      .poll(() => memory.writes.some((w) => w.state.checks >= checks), { timeout: 8_000 })
      .toBe(true);
    then(monitor);
  } finally {
    await monitor.stop();
  }
}

describe("Monitor", () => {
  it("given the baseline write fails while NATS is away, when it comes back, then the baseline is stored and the checks go on", async () => {
    let refused = 0;
    const { store, writes } = memoryStore(
      { state: storedWatch("d-flaky"), pending: [], revision: 1 },
      (state) => (state.scrape !== undefined && refused++ === 0 ? "refuse" : undefined),
    );
    await whenChecked({ store, writes }, 1, (monitor) => {
      expect(refused).toBeGreaterThan(1);
      expect(
        writes.find((w) => w.state.scrape !== undefined)?.state.scrape?.[instance]?.families,
      ).toBeDefined();
      expect(monitor.activeWatches().map((w) => w.status)).toEqual(["watching"]);
    });
  }, 15_000);

  it("given a write that landed but whose answer was lost, when the round is tried again, then it is counted once and the watch goes on", async () => {
    let lost = false;
    const { store, writes } = memoryStore(
      { state: storedWatch("d-lost", { scrape: {} }), pending: [], revision: 1 },
      (state) => {
        if (state.checks !== 1 || lost) return undefined;
        lost = true;
        return "lose";
      },
    );
    await whenChecked({ store, writes }, 2, (monitor) => {
      expect(lost).toBe(true);
      expect(writes.filter((w) => w.state.checks === 1 && w.pending.length > 0)).toHaveLength(1);
      expect(monitor.activeWatches().map((w) => w.status)).toEqual(["watching"]);
    });
  }, 15_000);

  it("given events stored but not published (a crash in between), when the monitor starts, then it publishes them with their ids and clears them", async () => {
    const ended = storedWatch("d-crash", { status: "breached", checks: 3, endedAt: Date.now() });
    const event: PendingEvent = {
      name: "slo.breached",
      id: "d-crash.c3.slo.breached.0",
      service: "emily",
      deploymentId: "d-crash",
      data: {
        slo: "error-ratio",
        color: "green",
        checks: 3,
        value: 0.42,
        threshold: 0.05,
        breaches: 2,
        limit: 2,
        action: "rollback",
      },
    };
    const { store, current } = memoryStore({
      state: ended,
      pending: [
        { kind: "publish", event },
        { kind: "cancel", deploymentId: "d-crash" },
        { kind: "confirm" },
      ],
      revision: 7,
    });
    const { bus, published } = recordingBus();
    const monitor = monitorWith(store, bus);
    await monitor.start();
    try {
      expect(published).toEqual([event]);
      expect(current()).toMatchObject({ state: { status: "breached" }, pending: [] });
      expect(monitor.activeWatches()).toEqual([]);
    } finally {
      await monitor.stop();
    }
  });

  it("given NATS refuses a round's events, then the round is stored first and its events go out once NATS is back", async () => {
    const { store, writes, current } = memoryStore({
      state: storedWatch("d-late", { scrape: {} }),
      pending: [],
      revision: 1,
    });
    const { bus, published, refuseNext } = recordingBus();
    const monitor = monitorWith(store, bus);
    // The resume's monitor.started is refused twice: stored, then published by the retries.
    refuseNext(2);
    await monitor.start();
    try {
      expect(writes[0]?.pending.map((c) => c.kind)).toEqual(["publish", "baseline", "confirm"]);
      await expect
        .poll(() => published.map((e) => e.id), { timeout: 8_000 })
        .toEqual(["d-late.started.1"]);
      await expect
        .poll(() => current()?.state.checks, { timeout: 8_000 })
        .toBeGreaterThanOrEqual(1);
      expect(published.filter((e) => e.name === "monitor.started")).toHaveLength(1);
    } finally {
      await monitor.stop();
    }
  }, 15_000);
});
