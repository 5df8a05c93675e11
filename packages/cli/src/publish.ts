import { hostname, userInfo } from "node:os";
import { agentSource, Bus, createLogger } from "@bluegreen/runtime";
import type { NatsConnection } from "nats";

/** Who runs the CLI: `alice@build-7`, for `requestedBy`/`by` and the event `source`. */
export function whoami(): string {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? "unknown";
  }
  return `${user}@${hostname()}`.slice(0, 128);
}

/** The CLI on the bus: role `cli`, its id the person and host that run it. */
const CLI_ROLE = "cli";

/** `bluegreen/cli/<user>@<host>`: the `source` of every event the CLI publishes. */
export function cliSource(): string {
  return agentSource(CLI_ROLE, whoami());
}

/**
 * The bus the CLI publishes through: the event id is the Nats-Msg-Id, so the bus' retries (and
 * a repeated command) are dropped by the stream. It creates no stream (only `apply` does, when
 * none exists yet) and logs nothing: the CLI speaks through its own output.
 */
export function cliBus(nc: NatsConnection): Bus {
  return new Bus({
    nc,
    role: CLI_ROLE,
    agentId: whoami(),
    logger: createLogger({ level: "silent" }),
  });
}
