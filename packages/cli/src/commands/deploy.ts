import { BgError, createEvent, versionProblem } from "@bluegreen/contracts";
import { type DeploymentState, isTerminal, newDeploymentId } from "@bluegreen/coordinator";
import type { JetStreamClient } from "nats";
import { durationOption, flag, options, positional, str, usageError } from "../args.ts";
import { serviceArg } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { storedDeployment } from "../deployments.ts";
import { ExitCode, exitCodeOf } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";
import { printOutcome, progressPrinter } from "../progress.ts";
import { cliSource, whoami } from "../publish.ts";
import { requestedByFrom } from "../requested-by.ts";
import { watchDeployment } from "../wait.ts";

export const deployCommand: CliCommand = {
  name: "deploy",
  summary: "deploy a version of a service to the idle colour (and follow it with --wait)",
  usage: `usage: bluegreen deploy <service> <version> [--wait] [--timeout 60m] [--json] [options]

Asks the coordinator to deploy <version> to the idle colour of <service>: deploy steps and
smoke checks on every node of that colour, the switch, then the SLO watch. Prints the
deployment id; with --wait, follows the deployment and exits with its outcome.

options:
  --wait             follow the deployment (a line per step) and exit with its outcome
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
  NATS_URL=nats://nats.internal:4222 bluegreen deploy emily v1.2 --manual

exit codes: 0 succeeded · 2 usage · 3 rejected · 4 failed · 5 rolled back · 6 timed out ·
7 aborted (see docs/cli.md)`,
  options: options({
    boolean: ["wait", "json", "queue", "manual"],
    string: ["timeout", "id", "reason"],
  }),
  async run({ values, positionals, io, nats, bus }) {
    const service = serviceArg(positional(positionals, 0, "service"));
    const version = positional(positionals, 1, "version");
    if (positionals.length > 2) throw usageError(`unexpected argument '${positionals[2]}'`);
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
      },
    });
    const wait = flag(values, "wait");
    const nc = await nats({ follow: wait });
    const js = nc.jetstream();
    const since = new Date(Date.now() - 2_000);
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
      if (ended) return exitCodeOf(`bluegreen.${known.outcome?.event ?? ""}`) ?? ExitCode.failed;
      const followed = await watchDeployment(js, {
        service,
        deploymentId,
        requestId: known.requestId,
        since,
        timeoutMs,
        onEvent: progressPrinter(io, json),
        connection: nc,
      });
      return printOutcome(io, json, followed, { deploymentId, timeoutMs });
    }
    const ack = await (await bus()).publish(request, { validated: true });
    if (!wait) {
      if (json)
        io.out(
          JSON.stringify({ deploymentId, service, version, eventId: request.id, seq: ack.seq }),
        );
      else
        io.out(
          `deployment ${deploymentId} requested: ${service} ${version} (follow it: bluegreen tail --service ${service} --follow)`,
        );
      return ExitCode.ok;
    }
    if (!json) io.out(`deploying ${service} ${version} as ${deploymentId}`);
    const result = await watchDeployment(js, {
      service,
      deploymentId,
      requestId: request.id,
      since,
      timeoutMs,
      onEvent: progressPrinter(io, json),
      connection: nc,
    });
    return printOutcome(io, json, result, { deploymentId, timeoutMs });
  },
};

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
