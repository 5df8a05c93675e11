import { BgError } from "@bluegreen/contracts";
import { isTerminal } from "@bluegreen/coordinator";
import { options, positional, usageError } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { findDeployment, NOT_FOUND_GRACE_MS } from "../deployments.ts";
import { ExitCode } from "../exit-codes.ts";
import { requestDeploy } from "./deploy.ts";

export const retryCommand: CliCommand = {
  name: "retry",
  summary: "deploy again the version of a deployment that did not succeed",
  usage: `usage: bluegreen retry <deployment-id> [--wait [--until switched]] [--timeout 60m] [--json]
                       [--reason <text>] [--id <id>]

Requests a new deployment of the same service and version as <deployment-id> (one that
failed, was rolled back, aborted or rejected), through the normal flow, marked as a retry of
it in its events and history (\`kind: retry\`, \`retryOf\`). A manual promotion is kept.

options:
  --wait             follow the new deployment and exit with its outcome
  --until <point>    with --wait: switched = exit 0 once traffic is on the new colour; done
  --timeout <dur>    with --wait, stop waiting after this long (default 60m): exit 6
  --json             JSON lines (the request, or the events with --wait)
  --reason <text>    recorded with the request
  --id <id>          the new deployment's id (default d-<yyyymmdd>-<random>)

examples:
  bluegreen retry d-20261126-4f2a9c --wait

exit codes: as \`deploy\`; 3 when the deployment is unknown or succeeded (nothing to retry)`,
  options: options({ boolean: ["wait", "json"], string: ["until", "timeout", "reason", "id"] }),
  async run(ctx) {
    const { positionals, io, nats } = ctx;
    const deploymentId = positional(positionals, 0, "deployment-id");
    if (positionals.length > 1) throw usageError(`unexpected argument '${positionals[1]}'`);
    const js = (await nats({ follow: true })).jetstream();
    const old = await findDeployment(js, deploymentId, NOT_FOUND_GRACE_MS);
    const refusal =
      old === undefined
        ? new BgError("BG_ERR_DEPLOY_NOT_FOUND", { deploymentId, service: "any service" })
        : !isTerminal(old.phase) || old.phase === "succeeded"
          ? new BgError("BG_ERR_DEPLOY_WRONG_PHASE", {
              deploymentId,
              phase: old.phase,
              action: "retry (only a deployment that did not succeed is retried)",
            })
          : undefined;
    if (old === undefined || refusal !== undefined) {
      io.err(`${refusal?.code}: ${refusal?.message}`);
      return ExitCode.rejected;
    }
    const values = { ...ctx.values, ...(old.manualPromotion ? { manual: true } : {}) };
    return requestDeploy(
      { ...ctx, values },
      { service: old.service, version: old.version, kind: "retry", retryOf: deploymentId },
    );
  },
};
