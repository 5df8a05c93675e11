import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BgError, compileServiceDefinition } from "@bluegreen/contracts";
import { createLogger } from "@bluegreen/runtime";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMonitorMetrics } from "./metrics.ts";
import { type Emit, WatchRunner } from "./watch-runner.ts";
import { newWatch, type WatchState } from "./watch-state.ts";
import type { WatchStore } from "./watch-store.ts";

// The runner against a store that fails the way KV does while NATS is away: the failed write
// is retried, and the watch goes on. The node's /metrics is a small HTTP server on loopback.

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

function definitionFor(port: number) {
  return compileServiceDefinition(`
service: emily
nodes:
  blue: { host: 127.0.0.1, port: 8001 }
  green: { host: 127.0.0.1, port: ${port} }
deploy: { workdir: /opt/emily, steps: [["true"]] }
traffic: { upstream: emily_active, file: /tmp/emily.conf, verify: { url: "http://127.0.0.1/health" } }
monitor:
  window: 10s
  interval: 1s
  source: { scrape: true }
  slos:
    - { name: error-ratio, query: "unused", scrape: { errorRatio: {} }, max: 0.05, no_traffic: pass }
`);
}

/** A store that refuses the first `failures` writes as a lost NATS connection would. */
function flakyStore(failures: number) {
  const writes: WatchState[] = [];
  let left = failures;
  let revision = 1;
  const store = {
    write: async (state: WatchState) => {
      if (left > 0) {
        left--;
        throw new Error("CONNECTION_CLOSED");
      }
      writes.push(state);
      revision++;
      return revision;
    },
  } as unknown as WatchStore;
  return { store, writes, failedLeft: () => left };
}

/** A KV-like store whose first write lands but loses its answer (NATS dropped meanwhile). */
function lostAnswerStore() {
  let stored: { state: WatchState; revision: number } | undefined;
  let revision = 1;
  let lost = false;
  const writes: WatchState[] = [];
  const store = {
    write: async (state: WatchState, expected: number | undefined) => {
      if (expected !== revision) {
        throw new BgError("BG_ERR_KV_CONFLICT", { key: state.service, bucket: "w", expected });
      }
      revision++;
      stored = { state: JSON.parse(JSON.stringify(state)) as WatchState, revision };
      writes.push(state);
      if (!lost) {
        lost = true;
        throw new Error("TIMEOUT");
      }
      return revision;
    },
    read: async () => ({ state: stored?.state, revision: stored?.revision }),
  } as unknown as WatchStore;
  return { store, writes };
}

describe("WatchRunner", () => {
  it("given the baseline write fails while NATS is away, when it comes back, then the baseline is stored and the checks go on", async () => {
    const port = Number(instance.split(":")[1]);
    const def = definitionFor(port);
    const state = {
      ...newWatch({
        service: "emily",
        deploymentId: "d-flaky",
        color: "green",
        instances: [instance],
        monitor: def.monitor,
        now: Date.now(),
        owner: "monitor/m1",
      }),
      announced: true,
    };
    const { store, writes, failedLeft } = flakyStore(1);
    const emitted: string[] = [];
    const emit: Emit = async (name) => {
      emitted.push(name);
    };
    const runner = new WatchRunner(
      {
        store,
        emit,
        metrics: createMonitorMetrics(new Registry()),
        logger: createLogger({ level: "silent" }),
        sources: {},
      },
      { state, revision: 1 },
    );
    runner.start();
    try {
      await expect.poll(() => writes.some((w) => w.checks >= 1), { timeout: 8_000 }).toBe(true);
      expect(failedLeft()).toBe(0);
      expect(writes[0]?.scrape?.[instance]?.families).toBeDefined();
      expect(runner.current.status).toBe("watching");
    } finally {
      await runner.stop();
    }
  }, 15_000);

  it("given a write that landed but whose answer was lost, when the retry conflicts with it, then the runner keeps its watch and goes on", async () => {
    const port = Number(instance.split(":")[1]);
    const state = {
      ...newWatch({
        service: "emily",
        deploymentId: "d-lost",
        color: "green",
        instances: [instance],
        monitor: definitionFor(port).monitor,
        now: Date.now(),
        owner: "monitor/m1",
      }),
      announced: true,
    };
    const { store, writes } = lostAnswerStore();
    const runner = new WatchRunner(
      {
        store,
        emit: async () => undefined,
        metrics: createMonitorMetrics(new Registry()),
        logger: createLogger({ level: "silent" }),
        sources: {},
      },
      { state, revision: 1 },
    );
    runner.start();
    try {
      await expect.poll(() => writes.some((w) => w.checks >= 1), { timeout: 8_000 }).toBe(true);
      expect(runner.current.status).toBe("watching");
    } finally {
      await runner.stop();
    }
  }, 15_000);
});
