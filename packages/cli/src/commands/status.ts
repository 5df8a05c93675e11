import { deploymentKey } from "@bluegreen/contracts";
import type { DeploymentState } from "@bluegreen/coordinator";
import { DeploymentStore } from "@bluegreen/coordinator";
import type { JetStreamClient } from "nats";
import { flag } from "../args.ts";
import { openBucket, serviceArg } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { newestFirst } from "../deployments.ts";
import { ExitCode } from "../exit-codes.ts";
import { describeFreeze } from "../freezes.ts";
import type { CliIo } from "../io.ts";
import {
  describeWatch,
  parseDeployment,
  readStatus,
  readSurroundings,
  rowCells,
  type ServiceStatus,
  type Surroundings,
  statusRows,
} from "../status-data.ts";
import { table } from "../table.ts";

/** How often `--watch` reads the active colour, freezes, SLO values and agents again. */
const REFRESH_MS = 1_000;

function jsonOf(r: ServiceStatus) {
  return {
    service: r.service,
    active: r.active === undefined ? null : { ...r.active.record, revision: r.active.revision },
    inFlight: r.running.map((d) => ({
      deploymentId: d.deploymentId,
      version: d.version,
      phase: d.phase,
      since: d.phaseSince,
      ...(d.kind === undefined ? {} : { kind: d.kind }),
    })),
    last:
      r.last === undefined
        ? null
        : {
            deploymentId: r.last.deploymentId,
            version: r.last.version,
            outcome: r.last.phase,
            at: r.last.outcome?.at ?? r.last.updatedAt,
          },
    frozen: r.freeze ?? null,
    watch:
      r.watch === undefined
        ? null
        : {
            deploymentId: r.watch.deploymentId,
            color: r.watch.color,
            checks: r.watch.checks,
            deadline: new Date(r.watch.deadline).toISOString(),
            slos: Object.fromEntries(
              Object.entries(r.watch.slos).map(([name, c]) => [name, c.last?.value ?? null]),
            ),
          },
    agents: r.agents,
  };
}

/** The table, and under each service its freeze, its running watch and its agents. */
function render(rows: readonly ServiceStatus[]): string[] {
  if (rows.length === 0)
    return ["no services (apply a definition: bluegreen apply -f service.yaml)"];
  const lines: string[] = [];
  const cells = [["SERVICE", "ACTIVE", "IN FLIGHT", "PHASE", "LAST"]];
  const notes = new Map<number, string[]>();
  for (const r of rows) {
    cells.push(...rowCells(r, true));
    const extra: string[] = [];
    if (r.freeze !== undefined) extra.push(`  ${describeFreeze(r.freeze)}`);
    if (r.watch !== undefined) extra.push(`  watch ${r.watch.color}: ${describeWatch(r.watch)}`);
    extra.push(`  agents: ${r.agents.join(", ") || "none"}`);
    notes.set(cells.length - 1, extra);
  }
  table(cells).forEach((line, i) => {
    lines.push(line);
    lines.push(...(notes.get(i) ?? []));
  });
  return lines;
}

/** A service's state in one line, without anything that changes by itself (elapsed time). */
function changeLine(r: ServiceStatus): string {
  const parts = rowCells(r, false).map((cells) => cells.join(" "));
  if (r.freeze !== undefined) parts.push(describeFreeze(r.freeze));
  if (r.watch !== undefined) parts.push(`watching ${r.watch.color}`);
  return parts.join(" | ");
}

/**
 * `status --watch`: every deployment write seen through a KV watch of bluegreen_deployments
 * (so no phase is missed), the rest read again every second. On a terminal the table is
 * redrawn in place; otherwise a line is printed per service whose state changed.
 */
async function watchStatus(
  js: JetStreamClient,
  io: CliIo,
  only: string | undefined,
  signal: AbortSignal,
): Promise<ExitCode> {
  const deployments = new Map<string, DeploymentState>();
  let around: Surroundings = await readSurroundings(js, only);
  const printed = new Map<string, string>();
  const draw = () => {
    const rows = statusRows(around, newestFirst(deployments.values()), only);
    if (io.tty) {
      io.out(`\x1b[H\x1b[2J${render(rows).join("\n")}`);
      return;
    }
    for (const r of rows) {
      const line = changeLine(r);
      if (printed.get(r.service) === line) continue;
      printed.set(r.service, line);
      io.out(`${new Date().toISOString().slice(11, 23)}  ${line}`);
    }
  };
  const kv = await openBucket(js, DeploymentStore.bucket);
  const watch = await kv?.watch(only === undefined ? {} : { key: deploymentKey(only, "*") });
  const stop = () => watch?.stop();
  signal.addEventListener("abort", stop, { once: true });
  const refresh = setInterval(() => {
    readSurroundings(js, only)
      .then((next) => {
        around = next;
        if (!signal.aborted) draw();
      })
      .catch(() => undefined);
  }, REFRESH_MS);
  try {
    draw();
    if (watch === undefined) await new Promise((r) => signal.addEventListener("abort", r));
    else
      for await (const entry of watch) {
        if (entry.operation !== "PUT") deployments.delete(entry.key);
        else {
          const state = parseDeployment(entry.value);
          if (state !== undefined && (only === undefined || state.service === only))
            deployments.set(entry.key, state);
        }
        draw();
      }
  } finally {
    clearInterval(refresh);
    signal.removeEventListener("abort", stop);
  }
  return ExitCode.ok;
}

export const statusCommand: CliCommand = {
  name: "status",
  summary: "what serves each service, the deployments in flight, freezes, watches, agents",
  usage: `usage: bluegreen status [service] [--watch] [--json]

For each service (or one): the active colour and version (and the revision of that record,
the switch fence), the deployment in flight with its phase and how long it has been in it, the
last deployment's outcome, a freeze (\`bluegreen freeze\`), the SLO values of a running watch,
and the agents serving it (fresh heartbeats).

options:
  --watch   keep watching: on a terminal the table is redrawn in place (every change and every
            second); otherwise one line per service whose state changed. Ctrl-C ends it (exit 0)
  --json    one JSON line per service (with --watch: the table's lines stay text)

examples:
  bluegreen status
  bluegreen status emily --watch
  bluegreen status emily --json`,
  options: { json: { type: "boolean" }, watch: { type: "boolean" } },
  async run({ values, positionals, io, nats, signal }) {
    const only = positionals[0] === undefined ? undefined : serviceArg(positionals[0]);
    const js = (await nats({ follow: flag(values, "watch") })).jetstream();
    if (flag(values, "watch")) {
      const ctl = new AbortController();
      signal?.addEventListener("abort", () => ctl.abort(), { once: true });
      const onSignal = () => ctl.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        return await watchStatus(js, io, only, ctl.signal);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    }
    const rows = await readStatus(js, only);
    if (flag(values, "json")) {
      for (const r of rows) io.out(JSON.stringify(jsonOf(r)));
      return ExitCode.ok;
    }
    for (const line of render(rows)) io.out(line);
    return ExitCode.ok;
  },
};
