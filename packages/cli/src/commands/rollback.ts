import { flag, positional } from "../args.ts";
import { serviceArg } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { readDeployments } from "../deployments.ts";
import { ExitCode } from "../exit-codes.ts";
import { OPERATOR_OPTIONS, operatorRequest } from "../operator.ts";

export const rollbackCommand: CliCommand = {
  name: "rollback",
  summary: "switch traffic back to the previous colour",
  usage: `usage: bluegreen rollback <service> [deployment-id] [--reason text] [--timeout 60s] [--json]

Asks the coordinator to switch traffic back to the colour that served before the deployment
(the latest deployment of the service when no id is given). During the watch window this
is the same as a breach; after it, the previous colour must still run the previous version
and be ready, or the coordinator refuses. Exits 0 once traffic is back, 3 if refused, 4 if
the rollback switch failed.

options:
  --reason <text>   recorded with the request
  --timeout <dur>   how long to wait for the outcome (default 60s): exit 6
  --json            JSON lines: the events as published

examples:
  bluegreen rollback emily --reason "customer reports"
  bluegreen rollback emily d-20261126-4f2a9c`,
  options: OPERATOR_OPTIONS,
  async run(ctx) {
    const { values, positionals, io, nats } = ctx;
    const service = serviceArg(positional(positionals, 0, "service"));
    const js = (await nats({ follow: true })).jetstream();
    let deploymentId = positionals[1];
    if (deploymentId === undefined) {
      const latest = (await readDeployments(js, service)).find((d) => d.phase !== "rejected");
      if (latest === undefined) {
        io.err(`BG_ERR_DEPLOY_NOT_FOUND: no deployment of '${service}' to roll back`);
        return ExitCode.rejected;
      }
      deploymentId = latest.deploymentId;
      if (!flag(values, "json")) io.out(`rolling back ${service} deployment ${deploymentId}`);
    }
    return operatorRequest(ctx, "deploy.rollback_requested", { service, deploymentId });
  },
};
