import { createEvent } from "@bluegreen/contracts";
import { durationOption, flag, type OptionSpec, str } from "./args.ts";
import type { CliContext } from "./command.ts";
import { ExitCode } from "./exit-codes.ts";
import { printOutcome, progressPrinter } from "./progress.ts";
import { cliSource, whoami } from "./publish.ts";
import { watchDeployment } from "./wait.ts";

type OperatorRequest =
  | "deploy.promote_requested"
  | "deploy.abort_requested"
  | "deploy.rollback_requested";

/**
 * The coordinator's first answer that ends each request's wait (exit 0), and how long it is
 * waited for by default. `promote --wait` instead follows the deployment to its end.
 */
const ANSWERS: Record<OperatorRequest, { doneOn: string; timeoutMs: number }> = {
  "deploy.promote_requested": { doneOn: "bluegreen.switch.requested", timeoutMs: 30_000 },
  "deploy.abort_requested": { doneOn: "bluegreen.deploy.aborted", timeoutMs: 60_000 },
  "deploy.rollback_requested": { doneOn: "bluegreen.deploy.rolled_back", timeoutMs: 60_000 },
};

/** With `--wait`: the deployment's end, within an hour by default. */
const TO_THE_END = { doneOn: undefined, timeoutMs: 60 * 60_000 };

/** The options every operator request takes (`promote` adds `--wait`). */
export const OPERATOR_OPTIONS: OptionSpec = {
  timeout: { type: "string" },
  reason: { type: "string" },
  json: { type: "boolean" },
};

/**
 * Publishes an operator request (promote, abort, rollback) and waits for the coordinator's
 * answer: the first step it takes (ANSWERS), or the end of the deployment with `wait`, or an
 * `agent.rejected` naming the request. `--reason`, `--json` and `--timeout` come from the
 * command line.
 */
export async function operatorRequest(
  { values, io, nats, bus }: CliContext,
  name: OperatorRequest,
  target: { service: string; deploymentId: string },
  opts: { wait?: boolean } = {},
): Promise<ExitCode> {
  const nc = await nats({ follow: true });
  const reason = str(values, "reason");
  const json = flag(values, "json");
  const answer = opts.wait === true ? TO_THE_END : ANSWERS[name];
  const timeoutMs = durationOption(values, "timeout", answer.timeoutMs);
  const { service, deploymentId } = target;
  const event = createEvent(name, {
    service,
    source: cliSource(),
    deploymentId,
    data: { by: whoami(), ...(reason === undefined ? {} : { reason }) },
  });
  const js = nc.jetstream();
  const since = new Date(Date.now() - 1_000);
  const ack = await (await bus()).publish(event, { validated: true });
  const { doneOn } = answer;
  const result = await watchDeployment(js, {
    service,
    deploymentId,
    requestId: event.id,
    since,
    timeoutMs,
    afterSeq: ack.seq,
    onEvent: progressPrinter(io, json),
    connection: nc,
    ...(doneOn === undefined
      ? {}
      : { until: (e) => (e.type === doneOn ? ExitCode.ok : undefined) }),
  });
  return printOutcome(io, json, result, { deploymentId, timeoutMs });
}
