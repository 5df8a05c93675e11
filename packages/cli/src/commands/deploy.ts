import { BgError, createEvent, versionProblem } from "@bluegreen/contracts";
import { type DeploymentState, isTerminal, newDeploymentId } from "@bluegreen/coordinator";
import type { JetStreamClient } from "nats";
import { durationOption, flag, options, positional, str, usageError } from "../args.ts";
import { serviceArg } from "../buckets.ts";
import type { CliCommand, CliContext } from "../command.ts";
import { storedDeployment } from "../deployments.ts";
import { printDeployPlan } from "../dry-run.ts";
import { ExitCode, exitCodeOf } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";
import { printOutcome, progressPrinter } from "../progress.ts";
import { cliSource, whoami } from "../publish.ts";
import { requestedByFrom } from "../requested-by.ts";
import { storedOutcome, untilOption, untilSwitched } from "../until.ts";
import { watchDeployment } from "../wait.ts";

/** A deploy as `deploy`, `rollback --to` and `retry` request it. */
export interface DeployRequest {
  service: string;
  version: string;
  kind?: "rollback" | "retry";
  retryOf?: string;
}

export const deployCommand: CliCommand = {
  name: "deploy",
  summary: "deploy a version of a service to the idle colour (and follow it with --wait)",
  usage: `usage: bluegreen deploy <service> <version> [--wait [--until switched]] [--timeout 60m] [--json]
                        [--dry-run] [options]

Asks the coordinator to deploy <version> to the idle colour of <service>: deploy steps and
smoke checks on every node of that colour, the switch, then the SLO watch. Prints the
deployment id; with --wait, follows the deployment and exits with its outcome.

options:
  --wait             follow the deployment (a line per step) and exit with its outcome
  --until <point>    with --wait: switched = exit 0 once traffic is on the new colour (the SLO
                     watch goes on; \`bluegreen wait <id>\` gets its outcome); done (default)
  --dry-run          print the plan (colour, nodes, each step's argv, the checks, the upstream
                     file and its diff) and change nothing
  --timeout <dur>    with --wait, stop waiting after this long (default 60m): exit 6
  --json             JSON lines: the deployment's events as published (CloudEvents)
  --queue            if the service is busy, wait for the running deployment instead of
                     being rejected
  --manual           stop after the smoke checks until \`bluegreen promote\`
  --id <id>          deployment id (default d-<yyyymmdd>-<random>); an id runs once, for
                     ever: repeated, it follows the running deployment or exits at once
                     with the outcome it had (an id only rejected may deploy again)
  --reason <text>    recorded with the request

examples:
  bluegreen deploy emily v1.1 --wait
  bluegreen deploy emily v1.1 --wait --json --timeout 45m > deploy.jsonl
  bluegreen deploy emily v1.1 --wait --until switched && bluegreen wait <id>
  bluegreen deploy emily v1.1 --dry-run
  NATS_URL=nats://nats.internal:4222 bluegreen deploy emily v1.2 --manual

exit codes: 0 succeeded · 2 usage · 3 rejected · 4 failed · 5 rolled back · 6 timed out ·
7 aborted (see docs/cli.md)`,
  options: options({
    boolean: ["wait", "json", "queue", "manual", "dry-run"],
    string: ["timeout", "id", "reason", "until"],
  }),
  async run(ctx) {
    const { values, positionals } = ctx;
    const service = serviceArg(positional(positionals, 0, "service"));
    const version = positional(positionals, 1, "version");
    if (positionals.length > 2) throw usageError(`unexpected argument '${positionals[2]}'`);
    if (flag(values, "dry-run")) return printDeployPlan(ctx, service, version);
    return requestDeploy(ctx, { service, version });
  },
};

/**
 * Publishes a `deploy.requested` (options from the command line: --id, --reason, --queue,
 * --manual, --json, --wait, --until, --timeout) and, with --wait, follows it to its outcome.
 * A deployment id runs once, for ever: with --id, a deployment already stored under it is
 * followed (or its outcome reported) instead of being requested again.
 */
export async function requestDeploy(
  { values, io, nats, bus }: CliContext,
  { service, version, kind, retryOf }: DeployRequest,
): Promise<ExitCode> {
  const unsafe = versionProblem(version);
  if (unsafe !== undefined) {
    const err = new BgError("BG_ERR_VERSION_UNSAFE", {
      version: version.slice(0, 140),
      reason: unsafe,
    });
    io.err(`${err.code}: ${err.message}`);
    return ExitCode.rejected;
  }
  const deploymentId = str(values, "id") ?? newDeploymentId();
  const json = flag(values, "json");
  const timeoutMs = durationOption(values, "timeout", 60 * 60_000);
  const until = untilOption(values);
  const early = untilSwitched(until);
  const reason = str(values, "reason");
  const request = createEvent("deploy.requested", {
    service,
    source: cliSource(),
    deploymentId,
    // Its own id: a retry of the same deployment id reaches the coordinator, which answers it.
    id: `${deploymentId}.request.${Date.now().toString(36)}`,
    data: {
      version,
      requestedBy: requestedByFrom(process.env, whoami),
      ...(reason === undefined ? {} : { reason }),
      ...(flag(values, "queue") ? { queue: true } : {}),
      ...(flag(values, "manual") ? { manualPromotion: true } : {}),
      ...(kind === undefined ? {} : { kind }),
      ...(retryOf === undefined ? {} : { retryOf }),
    },
  });
  const wait = flag(values, "wait");
  const nc = await nats({ follow: wait });
  const js = nc.jetstream();
  const since = new Date(Date.now() - 2_000);
  /** Follows the deployment from its request's event on, to its outcome's exit code. */
  const follow = async (requestId: string) =>
    printOutcome(
      io,
      json,
      await watchDeployment(js, {
        service,
        deploymentId,
        requestId,
        since,
        timeoutMs,
        onEvent: progressPrinter(io, json),
        connection: nc,
        ...(early === undefined ? {} : { until: early }),
      }),
      { deploymentId, timeoutMs },
    );
  // A deployment id runs once: a known one is answered from what the coordinator stored.
  const known =
    str(values, "id") === undefined
      ? undefined
      : await knownDeployment(js, service, deploymentId, io);
  if (known !== undefined && known.phase !== "rejected") {
    const ended = isTerminal(known.phase);
    if (json)
      io.out(
        JSON.stringify({
          deploymentId,
          service,
          known: true,
          phase: known.phase,
          version: known.version,
          ...(known.outcome === undefined
            ? {}
            : {
                outcome: known.outcome.event,
                ...(known.outcome.code === undefined ? {} : { code: known.outcome.code }),
              }),
        }),
      );
    else
      io.out(
        `deployment ${deploymentId} (${known.version}) ${ended ? `already ended: ${known.phase}` : `is already running: ${known.phase}`}${known.outcome?.message === undefined ? "" : ` (${known.outcome.message})`}; not requested again`,
      );
    if (!wait) return ExitCode.ok;
    if (ended)
      return (
        exitCodeOf(`bluegreen.${known.outcome?.event ?? ""}`) ??
        storedOutcome(known, until) ??
        ExitCode.failed
      );
    // with --until switched, a deployment already past its switch is there
    const reached = storedOutcome(known, until);
    if (reached !== undefined) return reached;
    return follow(known.requestId);
  }
  const ack = await (await bus()).publish(request, { validated: true });
  if (!wait) {
    if (json)
      io.out(JSON.stringify({ deploymentId, service, version, eventId: request.id, seq: ack.seq }));
    else
      io.out(
        `deployment ${deploymentId} requested: ${service} ${version} (follow it: bluegreen tail --service ${service} --follow)`,
      );
    return ExitCode.ok;
  }
  if (!json) io.out(`deploying ${service} ${version} as ${deploymentId}`);
  return follow(request.id);
}

/**
 * The deployment stored under a given id, if any. A NATS user that may not read the
 * deployments bucket (or a read that fails) is not an error: the request is published, and the
 * coordinator answers a known id from what it stored.
 */
async function knownDeployment(
  js: JetStreamClient,
  service: string,
  deploymentId: string,
  io: CliIo,
): Promise<DeploymentState | undefined> {
  try {
    return await storedDeployment(js, service, deploymentId);
  } catch (err) {
    io.err(
      `could not read deployment ${deploymentId} (${err instanceof Error ? err.message : String(err)}); the coordinator will answer the request`,
    );
    return undefined;
  }
}
