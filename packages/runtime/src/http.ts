import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Events, type NatsConnection } from "nats";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { Logger } from "./logger.ts";

export interface Health {
  ok: boolean;
  details?: Record<string, unknown>;
}

export interface AgentHttpOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  registry: Registry;
  health: () => Health | Promise<Health>;
  logger?: Logger;
}

export interface AgentHttp {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** A registry with the process' default metrics, names prefixed (`bluegreen_switcher_`). */
export function createMetricsRegistry(prefix?: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics(
    prefix === undefined ? { register: registry } : { register: registry, prefix },
  );
  return registry;
}

/**
 * The default health: the NATS connection is up. Follows the connection's status events
 * (disconnect → 503 until the reconnect), so call it once per connection.
 */
export function natsHealth(nc: NatsConnection): () => Health {
  let connected = !nc.isClosed();
  let since = new Date().toISOString();
  const follow = async () => {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) connected = false;
      else if (s.type === Events.Reconnect) connected = true;
      else continue;
      since = new Date().toISOString();
    }
  };
  follow().catch(() => undefined);
  return () => {
    const closed = nc.isClosed();
    const up = connected && !closed;
    return {
      ok: up,
      details: {
        nats: { connected: up, closed, server: closed ? undefined : nc.getServer(), since },
      },
    };
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  res.end(body);
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  opts: AgentHttpOptions,
): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(res, 405, "application/json", JSON.stringify({ error: "method not allowed" }));
    return;
  }
  if (path === "/metrics") {
    send(res, 200, opts.registry.contentType, await opts.registry.metrics());
    return;
  }
  if (path === "/healthz") {
    const health = await opts.health();
    send(
      res,
      health.ok ? 200 : 503,
      "application/json",
      JSON.stringify({ ok: health.ok, ...health.details }),
    );
    return;
  }
  send(res, 404, "application/json", JSON.stringify({ error: "not found" }));
}

/** The agent's HTTP endpoint: `GET /metrics` (Prometheus text) and `GET /healthz` (JSON, 200/503). */
export async function startAgentHttp(opts: AgentHttpOptions): Promise<AgentHttp> {
  const server = createServer((req, res) => {
    route(req, res, opts).catch((err: unknown) => {
      opts.logger?.error({ err, url: req.url }, "http handler failed");
      if (!res.headersSent)
        send(res, 500, "application/json", JSON.stringify({ error: "internal error" }));
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // A later server error (e.g. EMFILE) is logged; without a listener it would crash the agent.
  server.on("error", (err) => opts.logger?.error({ err }, "http server error"));
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}`;
  opts.logger?.info({ url }, "http listening");
  return {
    port,
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
