import { flag, positional } from "../args.ts";
import { serviceArg } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { OPERATOR_OPTIONS, operatorRequest } from "../operator.ts";

export const promoteCommand: CliCommand = {
  name: "promote",
  summary: "promote a deployment waiting at its manual gate",
  usage: `usage: bluegreen promote <service> <deployment-id> [--wait] [--timeout 30s] [--json]

Promotes a deployment that passed its smoke checks and waits for manual promotion: the
coordinator switches traffic to the new colour. Exits 0 once the switch is requested (with
--wait: once the deployment ends, with its outcome), 3 if the coordinator refuses.

options:
  --wait            follow the deployment to its end (exit codes as for deploy --wait)
  --timeout <dur>   how long to wait for the answer (default 30s; with --wait 60m)
  --reason <text>   recorded with the request
  --json            JSON lines: the events as published

examples:
  bluegreen promote emily d-20261126-4f2a9c
  bluegreen promote emily d-20261126-4f2a9c --wait`,
  options: { wait: { type: "boolean" }, ...OPERATOR_OPTIONS },
  async run(ctx) {
    const service = serviceArg(positional(ctx.positionals, 0, "service"));
    const deploymentId = positional(ctx.positionals, 1, "deployment-id");
    return operatorRequest(
      ctx,
      "deploy.promote_requested",
      { service, deploymentId },
      { wait: flag(ctx.values, "wait") },
    );
  },
};
