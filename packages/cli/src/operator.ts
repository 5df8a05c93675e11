import type { BgEvent } from "@bluegreen/contracts";
import { createEvent, type EventName } from "@bluegreen/contracts";
import { durationOption, flag, type OptionSpec, str } from "./args.ts";
import type { CliContext } from "./command.ts";
import type { ExitCode } from "./exit-codes.ts";
import { printOutcome, progressPrinter } from "./progress.ts";
import { cliSource, whoami } from "./publish.ts";
import { watchDeployment } from "./wait.ts";

type OperatorRequest =
  | "deploy.promote_requested"
  | "deploy.abort_requested"
  | "deploy.rollback_requested";

/** The options every operator request takes (`promote` adds `--wait`). */
export const OPERATOR_OPTIONS: OptionSpec = {
  timeout: { type: "string" },
  reason: { type: "string" },
  json: { type: "boolean" },
};

/**
 * Publishes an operator request (promote, abort, rollback) and waits for the coordinator's
 * answer: the first step it takes (`until`), or the end of the deployment with `--wait`,
 * or an `agent.rejected` naming the request. `--reason`, `--json` and `--timeout` (default
 * `timeoutMs`) come from the command line.
 */
export async function operatorRequest(
  { values, io, nats, bus }: CliContext,
  r: {
    name: OperatorRequest & EventName;
    service: string;
    deploymentId: string;
    timeoutMs: number;
    until: ((event: BgEvent) => ExitCode | undefined) | undefined;
  },
): Promise<ExitCode> {
  const nc = await nats({ follow: true });
  const reason = str(values, "reason");
  const json = flag(values, "json");
  const timeoutMs = durationOption(values, "timeout", r.timeoutMs);
  const event = createEvent(r.name, {
    service: r.service,
    source: cliSource(),
    deploymentId: r.deploymentId,
    data: { by: whoami(), ...(reason === undefined ? {} : { reason }) },
  });
  const js = nc.jetstream();
  const since = new Date(Date.now() - 1_000);
  const ack = await (await bus()).publish(event, { validated: true });
  const result = await watchDeployment(js, {
    service: r.service,
    deploymentId: r.deploymentId,
    requestId: event.id,
    since,
    timeoutMs,
    afterSeq: ack.seq,
    onEvent: progressPrinter(io, json),
    connection: nc,
    ...(r.until === undefined ? {} : { until: r.until }),
  });
  return printOutcome(io, json, result, { deploymentId: r.deploymentId, timeoutMs });
}
