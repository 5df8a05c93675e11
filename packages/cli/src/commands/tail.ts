import { readStream, type StreamItem } from "@bluegreen/runtime";
import { flag, options, sinceOption, str } from "../args.ts";
import { serviceArg } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { formatTimeline } from "../timeline.ts";

export const tailCommand: CliCommand = {
  name: "tail",
  summary: "the audit trail as a timeline (or JSON lines)",
  usage: `usage: bluegreen tail [--service s] [--deployment id] [--since 1h|ISO] [--follow] [--json]

Reads the BLUEGREEN stream in order: one line per event with its time, service,
deployment, event and key fields. Without --follow it stops at the end of the stream.

options:
  --service <name>     only this service
  --deployment <id>    only this deployment
  --since <when>       from this long ago (30m, 2h, 7d) or this ISO time (default: all)
  --follow             keep printing new events until interrupted
  --json               one JSON document per line: each event as stored (a CloudEvent), a
                       stored message that is not a valid event wrapped as
                       {"invalid":true,"seq":…,"subject":…,"raw":"…","error":{…}}

examples:
  bluegreen tail --service emily --since 1h
  bluegreen tail --follow
  bluegreen tail --deployment d-20261126-4f2a9c --json | jq .type`,
  options: options({ boolean: ["follow", "json"], string: ["service", "deployment", "since"] }),
  async run({ values, io, nats }) {
    const serviceOpt = str(values, "service");
    const service = serviceOpt === undefined ? undefined : serviceArg(serviceOpt);
    const deployment = str(values, "deployment");
    const since = sinceOption(values);
    const json = flag(values, "json");
    const follow = flag(values, "follow");
    const nc = await nats({ follow });
    const js = nc.jetstream();
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      for await (const item of readStream(js, {
        service,
        since,
        follow,
        signal: abort.signal,
        connection: nc,
      })) {
        const event = item.event;
        if (deployment !== undefined && event?.deploymentid !== deployment) continue;
        if (json) io.out(jsonLine(item));
        else if (event !== undefined) io.out(formatTimeline(event));
        else io.out(`(seq ${item.seq}) ${item.subject}: not a valid bluegreen event`);
      }
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
    return ExitCode.ok;
  },
};

/**
 * One stored message as one line of JSON, always: a valid event as stored (made compact), a
 * message that is not a valid event (or not JSON at all) wrapped with why.
 */
export function jsonLine(
  item: Pick<StreamItem, "seq" | "subject" | "event" | "raw" | "error">,
): string {
  if (item.event !== undefined) {
    try {
      return JSON.stringify(JSON.parse(item.raw));
    } catch {
      // A valid event is JSON; should it not parse here, it is wrapped like any other.
    }
  }
  return JSON.stringify({
    invalid: true,
    seq: item.seq,
    subject: item.subject,
    raw: item.raw,
    error: item.error ?? { code: "BG_ERR_EVENT_INVALID", message: "not a valid bluegreen event" },
  });
}
