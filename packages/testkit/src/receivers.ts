// Receivers of the notifier's deliveries, on loopback: a webhook endpoint that checks the
// signature as docs/notifier.md tells a receiver to, and an SMTP server. They count what they
// got per event id, so a suite sees "once" and a duplicate alike; the webhook one can be taken
// down (connections refused) and brought back on the same port, or told to answer a status.

import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface Received {
  /** Epoch ms of arrival. */
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  /** The signature header matched the body, the timestamp and the secret. */
  signed: boolean;
}

export interface WebhookReceiver extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly received: readonly Received[];
  /** How many times each event id arrived (a CloudEvent's `id`). */
  count(id: string): number;
  /** Ids that arrived more than once. */
  duplicates(): string[];
  /** The status answered for a path (default 200). */
  answer(path: string, status: number): void;
  /** Closes the port: deliveries are refused until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** The check a webhook receiver makes (docs/notifier.md): HMAC-SHA256 of "<timestamp>.<body>". */
export function verifySignature(
  secret: string,
  headers: IncomingHttpHeaders,
  body: string,
): boolean {
  const timestamp = String(headers["x-bluegreen-timestamp"] ?? "");
  const given = String(headers["x-bluegreen-signature"] ?? "");
  const expected = `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
  return (
    fresh &&
    given.length === expected.length &&
    timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  );
}

export async function startWebhookReceiver(
  opts: { secret?: string; port?: number; onReceive?: (r: Received) => void } = {},
): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const counts = new Map<string, number>();
  const statuses = new Map<string, number>();
  let server: Server | undefined;
  let port = opts.port ?? 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          const path = req.url ?? "/";
          const r: Received = {
            at: Date.now(),
            path,
            headers: req.headers,
            body,
            json,
            signed: opts.secret !== undefined && verifySignature(opts.secret, req.headers, body),
          };
          received.push(r);
          const id = (json as { id?: unknown } | undefined)?.id ?? req.headers["idempotency-key"];
          if (typeof id === "string") counts.set(id, (counts.get(id) ?? 0) + 1);
          opts.onReceive?.(r);
          res.statusCode = statuses.get(path) ?? 200;
          res.end("ok");
        });
      });
      s.keepAliveTimeout = 1_000;
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const close = async () => {
    const s = server;
    server = undefined;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  const handle: WebhookReceiver = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    received,
    count: (id) => counts.get(id) ?? 0,
    duplicates: () => [...counts].filter(([, n]) => n > 1).map(([id]) => id),
    answer: (path, status) => statuses.set(path, status),
    down: close,
    up: listen,
    stop: close,
    [Symbol.asyncDispose]: close,
  };
  return handle;
}

export interface Mail {
  at: number;
  from: string;
  to: string[];
  raw: string;
}

export interface SmtpReceiver extends AsyncDisposable {
  readonly port: number;
  readonly mails: readonly Mail[];
  stop(): Promise<void>;
}

/** A local SMTP server (no TLS, no auth) keeping every mail it was given. */
export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push({
          at: Date.now(),
          from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { port, mails, stop, [Symbol.asyncDispose]: stop };
}
