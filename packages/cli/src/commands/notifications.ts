import { Buckets } from "@bluegreen/contracts";
import { listDeliveries } from "@bluegreen/notifier";
import { flag, usageError } from "../args.ts";
import { openBucket } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { age, table } from "../table.ts";

const STATUSES = ["pending", "delivered", "failed"] as const;

export const notificationsCommand: CliCommand = {
  name: "notifications",
  summary: "the notifier's recent deliveries and their status",
  usage: `usage: bluegreen notifications [--status pending|delivered|failed] [--sink NAME]
                               [--limit N] [--json]

The notifier's deliveries (KV bucket bluegreen_notifications, kept 7 days), newest first:
the sink, the event and its service, the status (pending: waiting for a send or a retry;
delivered; failed: a final answer, or given up after the tries or age limit), the tries,
the last answer, and when it last changed.

examples:
  bluegreen notifications --status failed
  bluegreen notifications --sink ops-hook --limit 100 --json | jq .lastResult`,
  options: {
    status: { type: "string" },
    sink: { type: "string" },
    limit: { type: "string" },
    json: { type: "boolean" },
  },
  async run({ values, io, nats }) {
    const status = values.status as string | undefined;
    if (status !== undefined && !(STATUSES as readonly string[]).includes(status))
      throw usageError(`--status must be one of ${STATUSES.join(", ")}`);
    const limit = Number(values.limit ?? 50);
    if (!Number.isInteger(limit) || limit < 1)
      throw usageError("--limit must be a positive integer");
    const sink = values.sink as string | undefined;
    const kv = await openBucket((await nats()).jetstream(), Buckets.notifications);
    const rows = (kv === undefined ? [] : await listDeliveries(kv))
      .map((r) => r.delivery)
      .filter(
        (d) =>
          (status === undefined || d.status === status) && (sink === undefined || d.sink === sink),
      )
      .slice(0, limit);
    if (flag(values, "json")) {
      for (const { cloudEvent: _event, ...d } of rows)
        io.out(
          JSON.stringify({
            ...d,
            createdAt: new Date(d.createdAt).toISOString(),
            updatedAt: new Date(d.updatedAt).toISOString(),
          }),
        );
      return ExitCode.ok;
    }
    if (rows.length === 0) {
      io.out("no deliveries");
      return ExitCode.ok;
    }
    const now = Date.now();
    const lines = [
      ["SINK", "EVENT", "SERVICE", "STATUS", "TRIES", "LAST ANSWER", "CHANGED", "EVENT ID"],
    ];
    for (const d of rows) {
      lines.push([
        d.sink,
        d.event,
        d.service,
        d.status === "failed" ? "FAILED" : d.status,
        String(d.tries),
        d.lastResult ?? "-",
        `${age(new Date(d.updatedAt).toISOString(), now)} ago`,
        d.eventId,
      ]);
    }
    for (const line of table(lines)) io.out(line);
    return ExitCode.ok;
  },
};
