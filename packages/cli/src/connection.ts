import { BgError, type NatsConfig } from "@bluegreen/contracts";
import { connectionOptions, redactUrl } from "@bluegreen/runtime";
import { connect, type NatsConnection } from "nats";
import { str, type Values } from "./args.ts";

export type ConnectSettings = Pick<
  NatsConfig,
  "servers" | "user" | "pass" | "token" | "creds_file" | "nkey_seed_file" | "tls"
>;

/** Flags first, then the usual NATS environment variables, then the local default. */
export function connectSettings(
  values: Values,
  env: NodeJS.ProcessEnv = process.env,
): ConnectSettings {
  const flagged = (values.server as string[] | undefined) ?? [];
  const servers = (flagged.length > 0 ? flagged : [env.NATS_URL ?? "nats://127.0.0.1:4222"])
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const user = str(values, "user") ?? env.NATS_USER;
  const pass = str(values, "password") ?? env.NATS_PASSWORD;
  const token = str(values, "token") ?? env.NATS_TOKEN;
  const creds = str(values, "creds") ?? env.NATS_CREDS;
  const nkey = str(values, "nkey");
  const ca = str(values, "tls-ca");
  const cert = str(values, "tls-cert");
  const key = str(values, "tls-key");
  return {
    servers,
    ...(user === undefined ? {} : { user }),
    ...(pass === undefined ? {} : { pass }),
    ...(token === undefined ? {} : { token }),
    ...(creds === undefined ? {} : { creds_file: creds }),
    ...(nkey === undefined ? {} : { nkey_seed_file: nkey }),
    ...(ca || cert || key
      ? {
          tls: {
            ...(ca ? { ca_file: ca } : {}),
            ...(cert ? { cert_file: cert } : {}),
            ...(key ? { key_file: key } : {}),
          },
        }
      : {}),
  };
}

export interface CliConnectOptions {
  /**
   * The command follows the stream (`deploy --wait`, `tail --follow`, the operator requests):
   * once connected it rides out a server restart, reconnecting until the command's own
   * timeout ends it. Other commands give up after two attempts.
   */
  follow?: boolean;
}

/** How the CLI's connection reconnects once it was up (the first connection fails fast). */
export function cliReconnect(opts: CliConnectOptions): {
  maxReconnectAttempts: number;
  reconnectTimeWait: number;
} {
  return { maxReconnectAttempts: opts.follow === true ? -1 : 2, reconnectTimeWait: 500 };
}

/** Connects once, failing fast (a CLI must not hang waiting for a server). */
export async function connectCli(
  settings: ConnectSettings,
  opts: CliConnectOptions = {},
): Promise<NatsConnection> {
  const options = await connectionOptions(settings, { name: "bluegreen-cli" });
  try {
    return await connect({
      ...options,
      waitOnFirstConnect: false,
      ...cliReconnect(opts),
      timeout: 5_000,
    });
  } catch (err) {
    throw new BgError(
      "BG_ERR_NATS_CONNECT",
      {
        servers: settings.servers.map(redactUrl).join(","),
        reason: err instanceof Error ? err.message : String(err),
      },
      { cause: err },
    );
  }
}

/**
 * Drains the connection (what was published is flushed), but not for longer than `deadlineMs`:
 * a server that is down cannot take the drain, and the CLI must still exit.
 */
export async function closeCli(nc: NatsConnection, deadlineMs = 2_000): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, deadlineMs);
  });
  await Promise.race([nc.drain().catch(() => undefined), deadline]);
  clearTimeout(timer);
  if (!nc.isClosed()) await nc.close().catch(() => undefined);
}
