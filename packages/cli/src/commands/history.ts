import { type DeploymentState, isTerminal } from "@bluegreen/coordinator";
import { flag, positional, str, usageError } from "../args.ts";
import { serviceArg } from "../buckets.ts";
import type { CliCommand } from "../command.ts";
import { readDeployments } from "../deployments.ts";
import { ExitCode } from "../exit-codes.ts";
import { table } from "../table.ts";

export const historyCommand: CliCommand = {
  name: "history",
  summary: "the deployments of a service, newest first",
  usage: `usage: bluegreen history <service> [--limit 20] [--json]

Every deployment of <service> the coordinator recorded, newest first: id, version, outcome
(or current phase), when it was requested, how long it took, and why it ended (a rollback:
its cause, e.g. the SLO breached with its value and threshold).

examples:
  bluegreen history emily
  bluegreen history emily --limit 5 --json`,
  options: { json: { type: "boolean" }, limit: { type: "string" } },
  async run({ values, positionals, io, nats }) {
    const service = serviceArg(positional(positionals, 0, "service"));
    const limit = Number(str(values, "limit") ?? "20");
    if (!Number.isInteger(limit) || limit < 1)
      throw usageError("--limit: expected a positive integer");
    const js = (await nats()).jetstream();
    const list = (await readDeployments(js, service)).slice(0, limit);
    if (flag(values, "json")) {
      for (const d of list) io.out(JSON.stringify(d));
      return ExitCode.ok;
    }
    if (list.length === 0) {
      io.out(`no deployments of ${service}`);
      return ExitCode.ok;
    }
    const rows = [["DEPLOYMENT", "VERSION", "OUTCOME", "REQUESTED", "TOOK", "DETAIL"]];
    for (const d of list) {
      const end = isTerminal(d.phase) ? (d.outcome?.at ?? d.updatedAt) : new Date().toISOString();
      const took = Math.max(0, Date.parse(end) - Date.parse(d.requestedAt));
      const detail = detailOf(d);
      rows.push([
        d.deploymentId,
        d.version,
        d.outcome?.trafficAtRisk ? `${d.phase} (TRAFFIC AT RISK)` : d.phase,
        d.requestedAt.replace("T", " ").slice(0, 19),
        `${Math.round(took / 1000)}s`,
        detail.slice(0, 100),
      ]);
    }
    for (const line of table(rows)) io.out(line);
    return ExitCode.ok;
  },
};

const num = (n: number | null) => (n === null ? "no data" : String(Number(n.toPrecision(4))));

/**
 * Why a deployment ended, in a few words: a rollback's cause (the SLO, its value and
 * threshold; who asked and why), else the outcome's message, else the colours.
 */
export function detailOf(d: DeploymentState): string {
  const colours = d.plan ? `${d.plan.activeColor ?? "-"} → ${d.plan.targetColor}` : "";
  const r = d.rollback;
  if (r !== undefined && r.cause !== "abort") {
    const back = `back to ${r.to}`;
    if (r.breach !== undefined)
      return `${r.cause === "slo_breach" ? "SLO breached" : "inconclusive"}: ${r.breach.slo} ${num(r.breach.value)} > ${num(r.breach.threshold)}; ${back}`;
    if (r.cause === "inconclusive_limit") return `SLO watch inconclusive too often; ${back}`;
    const by = r.by === undefined ? "" : ` by ${r.by}`;
    const why = r.reason === undefined ? "" : `: ${r.reason}`;
    return `rollback requested${by}${why}; ${back}`;
  }
  return d.outcome?.message ?? colours;
}
