import { Buckets } from "@bluegreen/contracts";
import { isAlive, readHeartbeats } from "@bluegreen/runtime";
import { flag } from "../args.ts";
import { openBucket } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { age, table } from "../table.ts";

/** A heartbeat older than this many intervals counts as gone. */
const MISSED_BEATS = 3;

export const agentsCommand: CliCommand = {
  name: "agents",
  summary: "the agents that sent a heartbeat, and whether they are alive",
  usage: `usage: bluegreen agents [--json]

Every agent's last heartbeat (KV bucket bluegreen_agents): role, id, version, host, state, the
services (and colour and nodes) it serves, and how long ago it was seen. An agent is
alive when its last heartbeat is younger than three of its intervals.

options:
  --json   one JSON line per agent (with \`alive\`)

examples:
  bluegreen agents
  bluegreen agents --json | jq 'select(.alive == false)'`,
  options: { json: { type: "boolean" } },
  async run({ values, io, nats }) {
    const js = (await nats()).jetstream();
    const kv = await openBucket(js, Buckets.agents);
    const beats = kv === undefined ? [] : await readHeartbeats(kv);
    const now = Date.now();
    const rows = beats.map((hb) => ({
      hb,
      alive: isAlive(hb, hb.data.intervalMs * MISSED_BEATS, now),
    }));
    if (flag(values, "json")) {
      for (const { hb, alive } of rows)
        io.out(JSON.stringify({ ...hb.data, lastSeen: hb.time, alive }));
      return ExitCode.ok;
    }
    if (rows.length === 0) {
      io.out("no agent has sent a heartbeat");
      return ExitCode.ok;
    }
    const lines = [["ROLE", "AGENT", "VERSION", "HOST", "STATE", "SERVES", "SEEN", "ALIVE"]];
    for (const { hb, alive } of rows) {
      const d = hb.data;
      const nodes = d.nodes?.map((n) => `${n.node}${n.healthy ? "" : " (unhealthy)"}`).join(",");
      const serves = `${d.services.join(",") || "-"}${d.color ? ` ${d.color}` : ""}${nodes ? ` [${nodes}]` : ""}${d.leader ? " (leader)" : ""}`;
      lines.push([
        d.role,
        d.agentId,
        d.version,
        d.host,
        d.state,
        serves,
        `${age(hb.time, now)} ago`,
        alive ? "yes" : "NO",
      ]);
    }
    for (const line of table(lines)) io.out(line);
    return ExitCode.ok;
  },
};
