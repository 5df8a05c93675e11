import { Buckets, type Color, colorSchema, createEvent } from "@bluegreen/contracts";
import { readActiveRecord } from "@bluegreen/switcher";
import { durationOption, flag, positional, str, usageError } from "../args.ts";
import { openBucket, serviceArg } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { printOutcome, progressPrinter } from "../progress.ts";
import { cliSource, whoami } from "../publish.ts";
import { watchDeployment } from "../wait.ts";

export const switchCommand: CliCommand = {
  name: "switch",
  summary: "point a service's traffic at a colour by hand (fenced)",
  usage: `usage: bluegreen switch <service> <blue|green> [--reason text] [--timeout 60s] [--json]

Asks the switcher to point <service>'s upstream at <color>, outside any deployment. The
request is fenced on the active-colour record as read now: if another switch happens first,
it is refused. The switcher probes the target's readiness first and verifies through nginx.
Exits 0 when nginx serves <color>, 4 when the switch failed (traffic stays), 3 if refused.

options:
  --reason <text>   recorded with the request
  --timeout <dur>   how long to wait for the switcher's answer (default 60s): exit 6
  --json            JSON lines: the events as published

examples:
  bluegreen switch emily blue --reason "green host maintenance"`,
  options: { timeout: { type: "string" }, reason: { type: "string" }, json: { type: "boolean" } },
  async run({ values, positionals, io, nats, bus }) {
    const service = serviceArg(positional(positionals, 0, "service"));
    const colorArg = positional(positionals, 1, "color");
    const parsed = colorSchema.safeParse(colorArg);
    if (!parsed.success) throw usageError(`colour must be blue or green, got '${colorArg}'`);
    const to: Color = parsed.data;
    const nc = await nats({ follow: true });
    const js = nc.jetstream();
    const activeKv = await openBucket(js, Buckets.active);
    const { revision: expectedRevision } =
      activeKv === undefined ? { revision: 0 } : await readActiveRecord(activeKv, service);
    const reason = str(values, "reason");
    const event = createEvent("switch.requested", {
      service,
      source: cliSource(),
      data: {
        to,
        reason: "manual",
        expectedRevision,
        by: `${whoami()}${reason ? `: ${reason}` : ""}`.slice(0, 128),
      },
    });
    const ack = await (await bus()).publish(event, { validated: true });
    const json = flag(values, "json");
    const timeoutMs = durationOption(values, "timeout", 60_000);
    const result = await watchDeployment(js, {
      service,
      deploymentId: undefined,
      requestId: event.id,
      since: new Date(Date.now() - 1_000),
      afterSeq: ack.seq,
      timeoutMs,
      onEvent: progressPrinter(io, json),
      connection: nc,
      match: (e) => {
        const d = (e as { data: { to?: string; reason?: string } }).data;
        return e.type.startsWith("bluegreen.switch.") && d.to === to && d.reason === "manual";
      },
      until: (e) => {
        const d = (e as { data: { to?: string; reason?: string } }).data;
        if (d.to !== to || d.reason !== "manual") return undefined;
        if (e.type === "bluegreen.switch.done") return ExitCode.ok;
        if (e.type === "bluegreen.switch.failed") return ExitCode.failed;
        return undefined;
      },
    });
    return printOutcome(io, json, result, { deploymentId: undefined, timeoutMs });
  },
};
