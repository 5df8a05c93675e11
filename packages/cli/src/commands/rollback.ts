import { flag, positional, str, usageError } from "../args.ts";
import { serviceArg } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { readDeployments } from "../deployments.ts";
import { ExitCode } from "../exit-codes.ts";
import { OPERATOR_OPTIONS, operatorRequest } from "../operator.ts";
import { requestDeploy } from "./deploy.ts";

export const rollbackCommand: CliCommand = {
  name: "rollback",
  summary: "switch traffic back to the previous colour, or deploy an earlier version (--to)",
  usage: `usage: bluegreen rollback <service> [deployment-id] [--reason text] [--timeout 60s] [--json]
       bluegreen rollback <service> --to <version> [--until switched|done] [--timeout 60m]

Asks the coordinator to switch traffic back to the colour that served before the deployment
(the latest deployment of the service when no id is given). During the watch window this
is the same as a breach; after it, the previous colour must still run the previous version
and be ready, or the coordinator refuses. Exits 0 once traffic is back, 3 if refused, 4 if
the rollback switch failed.

With --to <version>: a deployment of that version (on neither colour any more, or on the idle
one) through the normal flow: deploy steps, readiness, smoke, switch, watch. It is marked as
a rollback (\`kind: rollback\` in deploy.requested and in history) and is let through a
freeze. Follows it until traffic is on the version (--until switched, the default) or to its
outcome (--until done); exit codes as \`deploy --wait\`.

options:
  --to <version>    deploy this version as a rollback
  --until <point>   with --to: switched (default) or done
  --reason <text>   recorded with the request
  --timeout <dur>   how long to wait for the outcome (default 60s; 60m with --to): exit 6
  --json            JSON lines: the events as published

examples:
  bluegreen rollback emily --reason "customer reports"
  bluegreen rollback emily d-20261126-4f2a9c
  bluegreen rollback emily --to v1.3 --reason "v1.4 corrupts exports"`,
  options: { ...OPERATOR_OPTIONS, to: { type: "string" }, until: { type: "string" } },
  async run(ctx) {
    const { values, positionals, io, nats } = ctx;
    const service = serviceArg(positional(positionals, 0, "service"));
    const to = str(values, "to");
    if (to !== undefined) {
      const follow = { ...values, wait: true, until: str(values, "until") ?? "switched" };
      return requestDeploy({ ...ctx, values: follow }, { service, version: to, kind: "rollback" });
    }
    if (str(values, "until") !== undefined) throw usageError("--until goes with --to <version>");
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
