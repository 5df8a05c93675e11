import { readFile } from "node:fs/promises";
import { BgError, type NatsConfig } from "@bluegreen/contracts";
import {
  type Authenticator,
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  DebugEvents,
  Events,
  type NatsConnection,
  nkeyAuthenticator,
  type Status,
  type TlsOptions,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
} from "nats";
import { type Logger, redactUrl } from "./logger.ts";

/** The subset of the agent config's `nats` section a connection needs. */
export type NatsConnectConfig = Pick<
  NatsConfig,
  | "servers"
  | "user"
  | "pass"
  | "pass_file"
  | "token"
  | "token_file"
  | "nkey_seed_file"
  | "creds_file"
  | "tls"
  | "name"
>;

export interface ConnectNatsOptions {
  /** Connection name shown by the server (`nats server report connections`). */
  name: string;
  logger: Logger;
  /** Base wait between reconnect attempts; jitter is added. Default 1 s. */
  reconnectTimeWaitMs?: number;
  /** Give up on the first connection after this long (default: keep trying, as a unit should). */
  firstConnectTimeoutMs?: number;
}

const FIRST_CONNECT_MAX_WAIT_MS = 10_000;

/** Errors that another attempt cannot fix: refuse at once instead of retrying forever. */
function isFatalConnectError(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /authoriz|authenticat|permission|user credentials|nkey|jwt/i.test(message);
}

const RECONNECT_JITTER_MS = 500;

async function readSecretFile(path: string, what: string, servers: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : "cannot be read";
    throw new BgError(
      "BG_ERR_NATS_CONNECT",
      { servers, reason: `${what} ${path} ${reason}` },
      { cause: err },
    );
  }
}

async function assertReadable(path: string, what: string, servers: string): Promise<void> {
  await readSecretFile(path, what, servers);
}

function textOf(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes).trim();
}

/**
 * Turns the config's credential fields into nats.js authenticators. Files are read here, so a
 * missing file fails at once with a clear reason instead of as an authorization violation.
 */
export async function buildAuthenticators(cfg: NatsConnectConfig): Promise<Authenticator[]> {
  const servers = cfg.servers.map(redactUrl).join(",");
  const auth: Authenticator[] = [];
  if (cfg.user !== undefined) {
    let pass = cfg.pass;
    if (cfg.pass_file !== undefined)
      pass = textOf(await readSecretFile(cfg.pass_file, "pass_file", servers));
    auth.push(usernamePasswordAuthenticator(cfg.user, pass));
  } else if (cfg.pass !== undefined || cfg.pass_file !== undefined) {
    throw new BgError("BG_ERR_NATS_CONNECT", {
      servers,
      reason: "a password is configured without a user",
    });
  }
  if (cfg.token !== undefined || cfg.token_file !== undefined) {
    const token =
      cfg.token_file !== undefined
        ? textOf(await readSecretFile(cfg.token_file, "token_file", servers))
        : (cfg.token as string);
    auth.push(tokenAuthenticator(token));
  }
  if (cfg.nkey_seed_file !== undefined) {
    const seed = new TextEncoder().encode(
      textOf(await readSecretFile(cfg.nkey_seed_file, "nkey_seed_file", servers)),
    );
    auth.push(nkeyAuthenticator(seed));
  }
  if (cfg.creds_file !== undefined) {
    auth.push(credsAuthenticator(await readSecretFile(cfg.creds_file, "creds_file", servers)));
  }
  return auth;
}

async function tlsOptions(cfg: NatsConnectConfig): Promise<TlsOptions | undefined> {
  if (cfg.tls === undefined) return undefined;
  const servers = cfg.servers.map(redactUrl).join(",");
  const tls: TlsOptions & { servername?: string } = {};
  if (cfg.tls.ca_file !== undefined) {
    await assertReadable(cfg.tls.ca_file, "tls.ca_file", servers);
    tls.caFile = cfg.tls.ca_file;
  }
  if (cfg.tls.cert_file !== undefined) {
    await assertReadable(cfg.tls.cert_file, "tls.cert_file", servers);
    tls.certFile = cfg.tls.cert_file;
  }
  if (cfg.tls.key_file !== undefined) {
    await assertReadable(cfg.tls.key_file, "tls.key_file", servers);
    tls.keyFile = cfg.tls.key_file;
  }
  // nats.js passes unknown TLS options through to tls.connect.
  if (cfg.tls.server_name !== undefined) tls.servername = cfg.tls.server_name;
  return tls;
}

/** The nats.js options for a config (exported for tests; holds secrets, never log it). */
export async function connectionOptions(
  cfg: NatsConnectConfig,
  opts: Omit<ConnectNatsOptions, "logger">,
): Promise<ConnectionOptions> {
  const authenticator = await buildAuthenticators(cfg);
  const tls = await tlsOptions(cfg);
  return {
    servers: [...cfg.servers],
    name: cfg.name ?? opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: opts.reconnectTimeWaitMs ?? 1_000,
    reconnectJitter: RECONNECT_JITTER_MS,
    reconnectJitterTLS: RECONNECT_JITTER_MS * 2,
    // The first connection is retried by connectNats itself, which logs why each attempt failed.
    waitOnFirstConnect: false,
    ...(authenticator.length === 0 ? {} : { authenticator }),
    ...(tls === undefined ? {} : { tls }),
  };
}

function describeStatus(s: Status): Record<string, unknown> {
  const data = typeof s.data === "string" ? redactUrl(s.data) : s.data;
  return {
    natsEvent: s.type,
    data,
    ...(s.permissionContext ? { permission: s.permissionContext } : {}),
  };
}

/** How each connection status is logged: level and message. */
const STATUS_LOG: Record<string, ["debug" | "info" | "warn" | "error", string]> = {
  [Events.Disconnect]: ["warn", "nats disconnected"],
  [Events.Reconnect]: ["info", "nats reconnected"],
  [Events.Error]: ["error", "nats error"],
  [Events.LDM]: ["warn", "nats server entering lame duck mode"],
  [Events.Update]: ["debug", "nats cluster update"],
  [DebugEvents.StaleConnection]: ["warn", "nats connection stale"],
};

/** Logs every connection status change until the connection closes. */
async function logStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const s of nc.status()) {
    const [level, message] = STATUS_LOG[s.type] ?? ["debug", "nats status"];
    logger[level](describeStatus(s), message);
  }
}

/**
 * Connects to NATS and keeps the connection forever: reconnects without limit (with jitter),
 * waits for the first server to come up, logs every disconnect, reconnect and error.
 */
export async function connectNats(
  cfg: NatsConnectConfig,
  opts: ConnectNatsOptions,
): Promise<NatsConnection> {
  const logger = opts.logger;
  const servers = cfg.servers.map(redactUrl);
  const options = await connectionOptions(cfg, opts);
  const started = Date.now();
  let nc: NatsConnection | undefined;
  for (let attempt = 1; nc === undefined; attempt++) {
    try {
      nc = await connect(options);
    } catch (err) {
      const error = new BgError(
        "BG_ERR_NATS_CONNECT",
        { servers: servers.join(","), reason: err instanceof Error ? err.message : String(err) },
        { cause: err },
      );
      const deadline = opts.firstConnectTimeoutMs;
      if (isFatalConnectError(err) || (deadline !== undefined && Date.now() - started >= deadline))
        throw error;
      const base = opts.reconnectTimeWaitMs ?? 1_000;
      const waitMs = Math.min(FIRST_CONNECT_MAX_WAIT_MS, base * 2 ** Math.min(attempt - 1, 4));
      logger.warn(
        { err: error.toJSON(), attempt, retryInMs: waitMs },
        "cannot connect to NATS yet; retrying",
      );
      await new Promise((resolve) =>
        setTimeout(resolve, waitMs + Math.random() * RECONNECT_JITTER_MS),
      );
    }
  }
  logger.info({ servers, server: redactUrl(nc.getServer()), name: options.name }, "nats connected");
  logStatus(nc, logger).catch((err: unknown) => logger.error({ err }, "nats status loop failed"));
  nc.closed()
    .then((err) => {
      if (err) logger.error({ err }, "nats connection closed with an error");
      else logger.info("nats connection closed");
    })
    .catch(() => undefined);
  return nc;
}
