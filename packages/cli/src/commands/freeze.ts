import {
  Buckets,
  createEvent,
  FREEZE_ALL,
  type FreezeRecord,
  freezeKey,
  NO_SERVICE,
  parseDuration,
} from "@bluegreen/contracts";
import { flag, positional, str, usageError, type Values } from "../args.ts";
import { openBucket, serviceArg } from "../buckets.ts";
import type { CliCommand, CliContext } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { describeFreeze } from "../freezes.ts";
import { cliSource, whoami } from "../publish.ts";
import { requestedByFrom } from "../requested-by.ts";

/** `<service>` or `--all`: the KV key's service part and the event's subject. */
function target(values: Values, positionals: readonly string[]) {
  if (flag(values, "all")) {
    if (positionals.length > 0) throw usageError("give a service or --all, not both");
    return { key: FREEZE_ALL, subject: NO_SERVICE, scope: "all" as const, name: "every service" };
  }
  const service = serviceArg(positional(positionals, 0, "service|--all"));
  if (positionals.length > 1) throw usageError(`unexpected argument '${positionals[1]}'`);
  return { key: service, subject: service, scope: "service" as const, name: service };
}

/** `--until 2h` (from now) or an ISO time, in the future. */
function untilArg(values: Values, now = Date.now()): string | undefined {
  const raw = str(values, "until");
  if (raw === undefined) return undefined;
  const ms = parseDuration(raw);
  const at = ms !== undefined ? now + ms : Date.parse(raw);
  if (Number.isNaN(at))
    throw usageError(`--until: expected a duration (2h, 3d) or an ISO time, got '${raw}'`);
  if (at <= now) throw usageError(`--until: ${raw} is not in the future`);
  return new Date(at).toISOString();
}

async function locksBucket(ctx: CliContext) {
  const kv = await openBucket((await ctx.nats()).jetstream(), Buckets.locks);
  if (kv === undefined)
    throw usageError("no bluegreen buckets on this server yet (start the agents first)");
  return kv;
}

export const freezeCommand: CliCommand = {
  name: "freeze",
  summary: "stop deploys of a service (or of all) until a time or until unfrozen",
  usage: `usage: bluegreen freeze <service|--all> --reason <text> [--until <time>] [--json]

Freezes deploys: while the freeze holds, the coordinator rejects every deploy of the service
(of every service with --all) with BG_ERR_DEPLOY_FROZEN, naming who froze it, why and until
when. A rollback (\`bluegreen rollback\`, also with --to) is still allowed. The freeze is the
KV key _freeze.<service> (or _freeze._all) of bluegreen_locks, and a freeze.set event in the
stream. It lapses at --until, or when lifted with \`bluegreen unfreeze\`. Needs the operator
NATS user.

options:
  --all             every service (a service's own freeze and this one both apply)
  --reason <text>   why (required): shown to whoever is refused
  --until <time>    when the freeze lapses: a duration from now (2h, 3d) or an ISO time;
                    without it, until \`bluegreen unfreeze\`
  --json            one JSON line: the stored freeze

examples:
  bluegreen freeze emily --reason "incident 4711" --until 2026-11-30T08:00:00Z
  bluegreen freeze --all --reason "end-of-year freeze" --until 14d`,
  options: {
    all: { type: "boolean" },
    reason: { type: "string" },
    until: { type: "string" },
    json: { type: "boolean" },
  },
  async run(ctx) {
    const { values, positionals, io, bus } = ctx;
    const t = target(values, positionals);
    const reason = str(values, "reason");
    if (reason === undefined || reason.trim() === "") throw usageError("missing --reason <text>");
    const until = untilArg(values);
    const record: FreezeRecord = {
      scope: t.scope,
      by: requestedByFrom(process.env, whoami),
      reason: reason.slice(0, 512),
      at: new Date().toISOString(),
      ...(until === undefined ? {} : { until }),
    };
    const kv = await locksBucket(ctx);
    await kv.put(freezeKey(t.key), JSON.stringify(record));
    const { at: _at, ...data } = record;
    await (await bus()).publish(
      createEvent("freeze.set", { service: t.subject, source: cliSource(), data }),
      { validated: true },
    );
    if (flag(values, "json")) io.out(JSON.stringify({ service: t.key, ...record }));
    else io.out(`${t.name}: ${describeFreeze(record)}`);
    return ExitCode.ok;
  },
};

export const unfreezeCommand: CliCommand = {
  name: "unfreeze",
  summary: "lift a freeze set by `bluegreen freeze`",
  usage: `usage: bluegreen unfreeze <service|--all> [--reason <text>] [--json]

Lifts the freeze of the service (of every service with --all): deletes its KV key and records
a freeze.lifted event. Lifting --all leaves a service's own freeze in place. Lifting a freeze
that is not there changes nothing and exits 0.

options:
  --all             the freeze of every service
  --reason <text>   recorded with the event
  --json            one JSON line: {service, lifted}

examples:
  bluegreen unfreeze emily --reason "incident closed"
  bluegreen unfreeze --all`,
  options: { all: { type: "boolean" }, reason: { type: "string" }, json: { type: "boolean" } },
  async run(ctx) {
    const { values, positionals, io, bus } = ctx;
    const t = target(values, positionals);
    const reason = str(values, "reason");
    const kv = await locksBucket(ctx);
    const entry = await kv.get(freezeKey(t.key));
    const lifted = entry !== null && entry.operation === "PUT";
    if (lifted) {
      await kv.delete(freezeKey(t.key));
      await (await bus()).publish(
        createEvent("freeze.lifted", {
          service: t.subject,
          source: cliSource(),
          data: {
            scope: t.scope,
            by: requestedByFrom(process.env, whoami),
            ...(reason === undefined ? {} : { reason }),
          },
        }),
        { validated: true },
      );
    }
    if (flag(values, "json")) io.out(JSON.stringify({ service: t.key, lifted }));
    else io.out(lifted ? `${t.name}: unfrozen` : `${t.name}: was not frozen`);
    return ExitCode.ok;
  },
};
