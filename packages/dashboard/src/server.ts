// The dashboard's HTTP server: the page, its assets, who is asking, the live feed of each page,
// and the operator requests (when actions are on).

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { Bus, createLogger, type Logger } from "@bluegreen/runtime";
import type { NatsConnection } from "nats";
import { parseActionRequest, publishAction } from "./actions.ts";
import { type Assets, loadAssets } from "./assets.ts";
import { type AuthConfig, Authenticator, hostAllowed, type Identity } from "./auth.ts";
import { Hub } from "./hub.ts";
import { runFeed } from "./live.ts";
import { parseScope } from "./scopes.ts";

export interface DashboardOptions {
  /** The connection it reads and publishes with (the caller's NATS identity). */
  nc: NatsConnection;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** `local` for one person on loopback; a password file or a proxy header when shared. */
  auth: AuthConfig;
  /** Promote, abort and rollback from the page (each asks for confirmation first). */
  actions: boolean;
  logger?: Logger;
}

export interface Dashboard {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const MAX_BODY = 16 * 1024;

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bluegreen dashboard</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <strong class="brand">bluegreen</strong>
  <nav aria-label="Pages"><a href="#/">Fleet</a><a href="#/agents">Agents</a></nav>
  <span id="who"></span>
  <span id="conn" role="status" aria-live="polite">connecting…</span>
</header>
<main id="main" tabindex="-1"></main>
<noscript>The dashboard needs JavaScript; <code>bluegreen status</code> and <code>bluegreen tail</code> show the same.</noscript>
<script type="module" src="/assets/app.js"></script>
</body>
</html>
`;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const logger = opts.logger ?? createLogger({ level: "silent" });
  const shared = opts.auth.kind !== "local";
  const auth = new Authenticator(opts.auth);
  const [assets, hub] = await Promise.all([loadAssets(), Hub.open(opts.nc, logger)]);
  const bus = new Bus({ nc: opts.nc, role: "dashboard", agentId: hostname().slice(0, 64), logger });
  const js = opts.nc.jetstream();
  let port = opts.port;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    const url = new URL(req.url ?? "/", "http://dashboard");
    if (url.pathname === "/healthz") return json(res, 200, { ok: true });
    if (!hostAllowed(req.headers.host, port, shared))
      return json(res, 421, { error: "this dashboard answers on 127.0.0.1 or localhost only" });
    const identity = auth.identify(req);
    if (identity === undefined) {
      if (opts.auth.kind === "password-file")
        res.setHeader("www-authenticate", 'Basic realm="bluegreen", charset="UTF-8"');
      return json(res, 401, { error: "authentication required" });
    }
    if (req.method === "GET") return get(url, req, res, identity, assets);
    if (req.method === "POST" && url.pathname === "/api/actions") return act(req, res, identity);
    return json(res, 405, { error: "method not allowed" });
  };

  const get = async (
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
    identity: Identity,
    files: Assets,
  ) => {
    if (url.pathname === "/" || url.pathname === "/index.html") {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
      });
      return res.end(PAGE);
    }
    const asset = url.pathname.startsWith("/assets/")
      ? files.get(url.pathname.slice(8))
      : undefined;
    if (asset !== undefined) {
      res.writeHead(200, { "content-type": asset.type, "cache-control": "no-cache" });
      return res.end(asset.body);
    }
    if (url.pathname === "/api/session")
      return json(res, 200, {
        user: identity.user,
        mode: shared ? "shared" : "local",
        actions: opts.actions,
        csrf: auth.csrfToken(identity),
      });
    if (url.pathname === "/api/live") {
      const scope = parseScope(url.searchParams.get("scope"));
      if (scope === undefined) return json(res, 400, { error: "unknown scope" });
      const last = req.headers["last-event-id"] ?? url.searchParams.get("after") ?? undefined;
      const resumeAfter = typeof last === "string" && /^\d+$/.test(last) ? Number(last) : undefined;
      return runFeed({ hub, js, scope, resumeAfter, res });
    }
    return json(res, 404, { error: "not found" });
  };

  const act = async (req: IncomingMessage, res: ServerResponse, identity: Identity) => {
    if (!opts.actions)
      return json(res, 403, { error: "this dashboard is read-only: actions are off" });
    const cross = auth.crossSite(req, identity);
    if (cross !== undefined)
      return json(res, 403, { error: `cross-site request refused: ${cross}` });
    if (!(req.headers["content-type"] ?? "").startsWith("application/json"))
      return json(res, 415, { error: "expected application/json" });
    let body: unknown;
    try {
      body = await readBody(req);
    } catch (err) {
      return json(res, 400, { error: (err as Error).message });
    }
    const request = parseActionRequest(body);
    if (typeof request === "string") return json(res, 400, { error: request });
    const published = await publishAction(bus, request, identity.user);
    logger.info(
      { ...request, by: identity.user, eventId: published.id },
      "operator request published",
    );
    return json(res, 202, published);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err: (err as Error).message }, "request failed");
      if (!res.headersSent) json(res, 500, { error: (err as Error).message });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await hub.stop();
    },
  };
}
