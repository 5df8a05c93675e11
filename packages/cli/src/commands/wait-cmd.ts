import { BgError } from "@bluegreen/contracts";
import { durationOption, flag, positional, usageError } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { findDeployment, NOT_FOUND_GRACE_MS } from "../deployments.ts";
import { ExitCode } from "../exit-codes.ts";
import { printOutcome, progressPrinter } from "../progress.ts";
import { storedOutcome, untilOption, untilSwitched } from "../until.ts";
import { watchDeployment } from "../wait.ts";

export const waitCommand: CliCommand = {
  name: "wait",
  summary: "follow an existing deployment and exit with its outcome",
  usage: `usage: bluegreen wait <deployment-id> [--until switched|done] [--timeout 60m] [--json]

Re-attaches to a deployment (one started by \`deploy\` without --wait, by \`deploy --wait
--until switched\`, or by a runner that was restarted): prints its events from the request on
and exits with its outcome. A deployment that already ended exits at once with its outcome.

options:
  --until <point>   switched: exit 0 once traffic is on the new colour; done (default): wait
                    for the outcome (after the SLO watch)
  --timeout <dur>   stop waiting after this long (default 60m): exit 6
  --json            JSON lines: the deployment's events as published (CloudEvents)

examples:
  bluegreen wait d-20261126-4f2a9c
  bluegreen wait "$DEPLOYMENT_ID" --timeout 45m

exit codes: 0 succeeded (or switched, with --until switched) · 2 usage · 3 rejected, or no
deployment with that id (BG_ERR_DEPLOY_NOT_FOUND) · 4 failed · 5 rolled back · 6 timed out ·
7 aborted (see docs/cli.md)`,
  options: {
    until: { type: "string" },
    timeout: { type: "string" },
    json: { type: "boolean" },
  },
  async run({ values, positionals, io, nats }) {
    const deploymentId = positional(positionals, 0, "deployment-id");
    if (positionals.length > 1) throw usageError(`unexpected argument '${positionals[1]}'`);
    const until = untilOption(values);
    const timeoutMs = durationOption(values, "timeout", 60 * 60_000);
    const json = flag(values, "json");
    const nc = await nats({ follow: true });
    const js = nc.jetstream();
    const state = await findDeployment(js, deploymentId, Math.min(NOT_FOUND_GRACE_MS, timeoutMs));
    if (state === undefined) {
      const err = new BgError("BG_ERR_DEPLOY_NOT_FOUND", { deploymentId, service: "any service" });
      io.err(`${err.code}: ${err.message}`);
      return ExitCode.rejected;
    }
    const ended = storedOutcome(state, until);
    if (ended !== undefined) {
      if (json)
        io.out(JSON.stringify({ deploymentId, service: state.service, phase: state.phase }));
      else io.out(`${deploymentId}: ${state.service} ${state.version} ${state.phase}`);
      return ended;
    }
    if (!json)
      io.out(`following ${state.service} ${state.version} ${deploymentId} (${state.phase})`);
    const early = untilSwitched(until);
    const result = await watchDeployment(js, {
      service: state.service,
      deploymentId,
      requestId: state.requestId,
      since: new Date(Date.parse(state.requestedAt) - 2_000),
      timeoutMs,
      onEvent: progressPrinter(io, json),
      connection: nc,
      ...(early === undefined ? {} : { until: early }),
    });
    return printOutcome(io, json, result, { deploymentId, timeoutMs });
  },
};
