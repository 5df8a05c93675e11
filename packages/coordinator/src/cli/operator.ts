import type { BgEvent } from "@bluegreen/contracts";
import { createEvent, type EventName } from "@bluegreen/contracts";
import type { NatsConnection } from "nats";
import type { ExitCode } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";
import { printOutcome, progressPrinter } from "./progress.ts";
import { cliSource, publishEvent, whoami } from "./publish.ts";
import { watchDeployment } from "./wait.ts";

type OperatorRequest =
  | "deploy.promote_requested"
  | "deploy.abort_requested"
  | "deploy.rollback_requested";

/**
 * Publishes an operator request (promote, abort, rollback) and waits for the coordinator's
 * answer: the first step it takes (`until`), or the end of the deployment with `--wait`,
 * or an `agent.rejected` naming the request.
 */
export async function operatorRequest(
  nc: NatsConnection,
  io: CliIo,
  r: {
    name: OperatorRequest & EventName;
    service: string;
    deploymentId: string;
    reason: string | undefined;
    json: boolean;
    timeoutMs: number;
    until: ((event: BgEvent) => ExitCode | undefined) | undefined;
  },
): Promise<ExitCode> {
  const event = createEvent(r.name, {
    service: r.service,
    source: cliSource(),
    deploymentId: r.deploymentId,
    data: { by: whoami(), ...(r.reason === undefined ? {} : { reason: r.reason }) },
  });
  const js = nc.jetstream();
  const since = new Date(Date.now() - 1_000);
  const ack = await publishEvent(js, event);
  const result = await watchDeployment(js, {
    service: r.service,
    deploymentId: r.deploymentId,
    requestId: event.id,
    since,
    timeoutMs: r.timeoutMs,
    afterSeq: ack.seq,
    onEvent: progressPrinter(io, r.json),
    connection: nc,
    ...(r.until === undefined ? {} : { until: r.until }),
  });
  return printOutcome(io, r.json, result, { deploymentId: r.deploymentId, timeoutMs: r.timeoutMs });
}
