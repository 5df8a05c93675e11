import { Buckets } from "@bluegreen/contracts";
import { isTerminal } from "@bluegreen/coordinator";
import { keysOf } from "@bluegreen/runtime";
import { ActiveStore } from "@bluegreen/switcher";
import { flag } from "../args.ts";
import { openBucket, serviceArg } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { readDeployments } from "../deployments.ts";
import { ExitCode } from "../exit-codes.ts";
import { age, table } from "../table.ts";

export const statusCommand: CliCommand = {
  name: "status",
  summary: "what serves each service, and the deployments in flight",
  usage: `usage: bluegreen status [service] [--json]

For each service (or one): the active colour and version (and the revision of that record,
the switch fence), the deployment in flight with its phase, and the last deployment's
outcome.

examples:
  bluegreen status
  bluegreen status emily --json`,
  options: { json: { type: "boolean" } },
  async run({ values, positionals, io, nats }) {
    const only = positionals[0] === undefined ? undefined : serviceArg(positionals[0]);
    const js = (await nats()).jetstream();
    const [activeKv, servicesKv] = await Promise.all([
      openBucket(js, Buckets.active),
      openBucket(js, Buckets.services),
    ]);
    const actives = activeKv === undefined ? undefined : new ActiveStore(activeKv);
    const deployments = await readDeployments(js, only);
    const names = new Set<string>(only === undefined ? [] : [only]);
    if (only === undefined) {
      for (const key of servicesKv ? await keysOf(servicesKv) : []) names.add(key);
      for (const key of actives ? await actives.services() : []) names.add(key);
      for (const d of deployments) names.add(d.service);
    }
    const rows = [];
    for (const service of [...names].sort()) {
      const active = await actives?.get(service);
      const mine = deployments.filter((d) => d.service === service);
      const running = mine.filter((d) => !isTerminal(d.phase));
      const last = mine.find((d) => isTerminal(d.phase));
      rows.push({ service, active, running, last });
    }
    if (flag(values, "json")) {
      for (const r of rows)
        io.out(
          JSON.stringify({
            service: r.service,
            active:
              r.active === undefined ? null : { ...r.active.record, revision: r.active.revision },
            inFlight: r.running.map((d) => ({
              deploymentId: d.deploymentId,
              version: d.version,
              phase: d.phase,
              since: d.phaseSince,
            })),
            last:
              r.last === undefined
                ? null
                : {
                    deploymentId: r.last.deploymentId,
                    version: r.last.version,
                    outcome: r.last.phase,
                    at: r.last.outcome?.at ?? r.last.updatedAt,
                  },
          }),
        );
      return ExitCode.ok;
    }
    if (rows.length === 0) {
      io.out("no services (apply a definition: bluegreen apply -f service.yaml)");
      return ExitCode.ok;
    }
    const lines: string[][] = [["SERVICE", "ACTIVE", "IN FLIGHT", "PHASE", "LAST"]];
    for (const r of rows) {
      const active =
        r.active === undefined
          ? "-"
          : `${r.active.record.color} ${r.active.record.version ?? "?"} (r${r.active.revision})`;
      const first = r.running[0];
      const inFlight = first === undefined ? "-" : `${first.deploymentId} ${first.version}`;
      const phase = first === undefined ? "-" : `${first.phase} ${age(first.phaseSince)}`;
      const last =
        r.last === undefined ? "-" : `${r.last.deploymentId} ${r.last.version} ${r.last.phase}`;
      lines.push([r.service, active, inFlight, phase, last]);
      for (const more of r.running.slice(1))
        lines.push(["", "", `${more.deploymentId} ${more.version}`, more.phase, ""]);
    }
    for (const line of table(lines)) io.out(line);
    return ExitCode.ok;
  },
};
