// The sample app's HTTP server: plain node:http, the routes of the service being deployed,
// Prometheus metrics and the fault-injection admin endpoint.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import {
  applyFaultsPatch,
  classifyPath,
  decideFault,
  type Faults,
  NO_FAULTS,
  parseFaultsPatch,
  RouteKind,
} from "./faults.ts";
import { healthState } from "./health.ts";
import { type AppMetrics, createMetrics } from "./metrics.ts";
import { pathLabel } from "./routes.ts";

export interface SampleAppConfig {
  readonly host: string;
  readonly port: number;
  readonly version: string;
  readonly color: string;
  readonly faults?: Faults;
  readonly slowStartMs?: number;
  /** Include prom-client's process metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** Injectable for tests. */
  readonly random?: () => number;
  readonly now?: () => number;
}

export interface SampleApp {
  readonly server: Server;
  readonly metrics: AppMetrics;
  /** Resolves with the bound address once the port is listening. */
  listen(): Promise<{ host: string; port: number }>;
  /** `host:port` once listening. */
  instance(): string;
  faults(): Faults;
  setFaults(patch: Partial<Faults>): Faults;
  /** Stops accepting connections, waits up to `graceMs` for requests in flight. */
  close(graceMs?: number): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export function createSampleApp(config: SampleAppConfig): SampleApp {
  const random = config.random ?? Math.random;
  const now = config.now ?? Date.now;
  const slowStartMs = config.slowStartMs ?? 0;
  const metrics = createMetrics({ defaultMetrics: config.defaultMetrics ?? true });
  let faults: Faults = applyFaultsPatch(NO_FAULTS, config.faults ?? {});
  let startedAt = now();
  let instance = `${config.host}:${config.port}`;
  let inferences = 0;

  const identity = () => ({ version: config.version, color: config.color, instance });

  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
  };

  const methodNotAllowed = (res: ServerResponse, allow: string) => {
    res.setHeader("allow", allow);
    sendJson(res, 405, { error: "method not allowed", allow });
  };

  const handleControl = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path === "/metrics") {
      if (req.method !== "GET") return methodNotAllowed(res, "GET");
      const text = await metrics.registry.metrics();
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(text);
      return;
    }
    if (path === "/admin/faults") {
      if (req.method === "GET") return sendJson(res, 200, faults);
      if (req.method !== "POST") return methodNotAllowed(res, "GET, POST");
      const body = await readJson(req);
      if (!body.ok) return sendJson(res, 400, { error: body.error });
      const parsed = parseFaultsPatch(body.value);
      if (!parsed.ok) {
        return sendJson(res, 400, { error: "invalid faults", problems: parsed.problems });
      }
      faults = applyFaultsPatch(faults, parsed.patch);
      log("faults changed", { faults });
      return sendJson(res, 200, faults);
    }
    sendJson(res, 404, { error: "not found", path });
  };

  const handleApp = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed(res, "GET, HEAD");
      const state = healthState(faults, startedAt, slowStartMs, now());
      if (state.healthy) return sendJson(res, 200, { status: "healthy", ...identity() });
      return sendJson(res, 503, { status: "unhealthy", reason: state.reason, ...identity() });
    }
    if (path === "/api/v1/inference") {
      if (req.method !== "POST") return methodNotAllowed(res, "POST");
      const body = await readJson(req);
      if (!body.ok) return sendJson(res, 400, { error: body.error });
      const prompt = (body.value as { prompt?: unknown } | null)?.prompt;
      if (typeof prompt !== "string") {
        return sendJson(res, 400, { error: 'expected a JSON body {"prompt": string}' });
      }
      inferences += 1;
      const tokens = prompt.trim() === "" ? 0 : prompt.trim().split(/\s+/).length;
      return sendJson(res, 200, {
        output: `[${config.color} ${config.version}] ${prompt}`,
        tokens,
        model: "sample-app",
        ...identity(),
      });
    }
    if (path === "/api/v1/memory") {
      if (req.method !== "GET") return methodNotAllowed(res, "GET");
      const usage = process.memoryUsage();
      return sendJson(res, 200, {
        inferences,
        memory: { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed },
        uptimeSeconds: (now() - startedAt) / 1000,
        ...identity(),
      });
    }
    sendJson(res, 404, { error: "not found", path });
  };

  const server = createServer((req, res) => {
    const startedNs = process.hrtime.bigint();
    res.setHeader("X-App-Version", config.version);
    res.setHeader("X-App-Color", config.color);
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const kind = classifyPath(path);
    if (kind !== RouteKind.Control) {
      res.once("finish", () => {
        const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
        metrics.observe(req.method ?? "GET", pathLabel(path), res.statusCode, seconds);
      });
    }
    const serve = async () => {
      if (kind === RouteKind.Control) return handleControl(req, res, path);
      const decision = decideFault(kind, faults, random());
      if (decision.delayMs > 0) await sleep(decision.delayMs);
      if (decision.fail) {
        req.resume();
        return sendJson(res, 500, { error: "injected fault", ...identity() });
      }
      return handleApp(req, res, path);
    };
    serve().catch((error: unknown) => {
      log("request failed", { path, error: String(error) });
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;

  return {
    server,
    metrics,
    listen() {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(config.port, config.host, () => {
          server.off("error", reject);
          const address = server.address() as AddressInfo;
          instance = `${config.host}:${address.port}`;
          startedAt = now();
          resolve({ host: config.host, port: address.port });
        });
      });
    },
    instance: () => instance,
    faults: () => faults,
    setFaults(patch) {
      faults = applyFaultsPatch(faults, patch);
      return faults;
    },
    async close(graceMs = 2_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

type JsonBody = { ok: true; value: unknown } | { ok: false; error: string };

async function readJson(req: IncomingMessage): Promise<JsonBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      return { ok: false, error: `body larger than ${MAX_BODY_BYTES} bytes` };
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return { ok: false, error: "body is not valid JSON" };
  }
}

/** One JSON line per event on stdout; the "listening" line is read by spawners. */
export function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: "info", msg, pid: process.pid, ...fields })}\n`,
  );
}
