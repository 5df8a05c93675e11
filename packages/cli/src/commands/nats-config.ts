import { Buckets } from "@bluegreen/contracts";
import { readHeartbeats } from "@bluegreen/runtime";
import { openBucket } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { type NodeAgentIdentity, renderNodeAgentUsers } from "../nats-users.ts";

export const natsConfigCommand: CliCommand = {
  name: "nats-config",
  summary: "render one NATS user per node agent, allowed only its services' subjects",
  usage: `usage: bluegreen nats-config

Prints a nats-server.conf fragment with one user per node agent that sent a heartbeat (KV
bucket bluegreen_agents): it may publish the node events (deploy.progress, .ready, .failed,
smoke.passed, .failed, agent.rejected) and write results only for the services it serves
that have a definition, and write only its own heartbeat. Include it in nats-server.conf
and give each agent its own user and password file (docs/operations.md).

examples:
  bluegreen nats-config > /etc/nats/bluegreen-node-agents.conf`,
  options: {},
  async run({ io, nats }) {
    const js = (await nats()).jetstream();
    const [agents, services] = await Promise.all([
      openBucket(js, Buckets.agents),
      openBucket(js, Buckets.services),
    ]);
    const beats = agents === undefined ? [] : await readHeartbeats(agents);
    const defined = new Set<string>();
    if (services !== undefined) for await (const key of await services.keys()) defined.add(key);
    const identities: NodeAgentIdentity[] = beats
      .filter((hb) => hb.data.role === "node-agent")
      .map((hb) => ({
        agentId: hb.data.agentId,
        services: hb.data.services.filter((s) => defined.has(s)),
      }))
      .filter((a) => a.services.length > 0);
    if (identities.length === 0) {
      io.err("no node agent serving a defined service has sent a heartbeat");
      return ExitCode.error;
    }
    io.out(renderNodeAgentUsers(identities).trimEnd());
    return ExitCode.ok;
  },
};
