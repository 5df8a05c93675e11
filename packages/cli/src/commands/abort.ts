import { positional } from "../args.ts";
import { serviceArg } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { OPERATOR_OPTIONS, operatorRequest } from "../operator.ts";

export const abortCommand: CliCommand = {
  name: "abort",
  summary: "abort a deployment (before the switch: stop; after it: switch back)",
  usage: `usage: bluegreen abort <service> <deployment-id> [--reason text] [--timeout 60s] [--json]

Aborts a running deployment. Before the switch, the deployment stops and traffic stays where
it is; after the switch, traffic is switched back to the previous colour first. Exits 0 when
the deployment is aborted, 3 if the coordinator refuses (e.g. the deployment already ended).

options:
  --reason <text>   recorded with the request
  --timeout <dur>   how long to wait for the outcome (default 60s): exit 6
  --json            JSON lines: the events as published

examples:
  bluegreen abort emily d-20261126-4f2a9c --reason "wrong tag"`,
  options: OPERATOR_OPTIONS,
  async run(ctx) {
    const service = serviceArg(positional(ctx.positionals, 0, "service"));
    const deploymentId = positional(ctx.positionals, 1, "deployment-id");
    return operatorRequest(ctx, "deploy.abort_requested", { service, deploymentId });
  },
};
