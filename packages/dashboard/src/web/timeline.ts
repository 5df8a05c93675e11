// A deployment's events as timeline rows: what happened, with the time since the request and
// since the step before. Pure (no DOM): the page renders it, the unit tests check it.

export interface WireEvent {
  id: string;
  type: string;
  time: string;
  subject: string;
  deploymentid?: string;
  data?: unknown;
}

export interface TimelineRow {
  seq: number;
  id: string;
  time: string;
  /** `deploy.progress`, `smoke.passed`, … */
  name: string;
  /** ms since the first event shown, and since the one before. */
  sinceStartMs: number;
  sincePrevMs: number;
  detail: string;
  /** A failure, a breach, a rollback: shown with a word and a mark, not by colour alone. */
  tone: "ok" | "bad" | "info";
}

const BAD = new Set([
  "deploy.failed",
  "deploy.rejected",
  "deploy.rolled_back",
  "deploy.aborted",
  "smoke.failed",
  "switch.failed",
  "slo.breached",
  "agent.rejected",
]);
const OK = new Set([
  "deploy.ready",
  "smoke.passed",
  "switch.done",
  "monitor.passed",
  "deploy.succeeded",
]);

/** A measured value, to four significant digits. */
const num = (n: unknown) => (typeof n === "number" ? String(Number(n.toPrecision(4))) : String(n));
const ms = (n: unknown) => (typeof n === "number" ? `${Math.round(n)} ms` : "");

type Data = Record<string, unknown>;

/** The line that says what an event carried. */
export function describe(name: string, d: Data): string {
  switch (name) {
    case "deploy.requested":
      return `version ${d.version}${d.requestedBy ? ` by ${d.requestedBy}` : ""}${d.manualPromotion ? " (manual promotion)" : ""}`;
    case "deploy.started":
      return `${d.version} on ${d.color} (${(d.nodes as unknown[] | undefined)?.length ?? 0} node(s)), ${d.activeColor ?? "nothing"} serving`;
    case "deploy.progress": {
      const cmd = Array.isArray(d.command) ? d.command.join(" ") : "";
      const exit = d.exitCode === undefined ? "" : ` exit ${d.exitCode ?? "none"}`;
      return `${d.node} step ${d.step}/${d.steps} ${d.status}${exit}${d.durationMs === undefined ? "" : ` in ${ms(d.durationMs)}`}: ${cmd}`;
    }
    case "deploy.ready":
      return `${d.node} ready after ${d.attempts} readiness attempt(s) in ${ms(d.durationMs)}`;
    case "smoke.passed":
    case "smoke.failed": {
      const checks =
        (d.checks as { name: string; ok: boolean; durationMs: number; status?: number }[]) ?? [];
      const list = checks
        .map(
          (c) =>
            `${c.name} ${c.ok ? "ok" : "FAILED"}${c.status ? ` ${c.status}` : ""} ${ms(c.durationMs)}`,
        )
        .join("; ");
      return `${d.node}: ${list}${d.error ? ` — ${(d.error as Data).message}` : ""}`;
    }
    case "switch.requested":
      return `to ${d.to} (${d.reason}), fence r${d.expectedRevision}${d.by ? ` by ${d.by}` : ""}`;
    case "switch.done": {
      const t = (d.timings ?? {}) as Data;
      const steps = ["probe", "write", "test", "reload", "verify", "record"]
        .filter((k) => t[`${k}Ms`] !== undefined)
        .map((k) => `${k} ${ms(t[`${k}Ms`])}`)
        .join(", ");
      return `${d.from ?? "none"} → ${d.to} (${d.reason}) r${d.revision} total ${ms(t.totalMs)}${steps ? `: ${steps}` : ""}`;
    }
    case "monitor.started":
      return `watching ${d.color} for ${ms(d.windowMs)} every ${ms(d.intervalMs)}${d.resumed ? " (resumed)" : ""}`;
    case "monitor.passed":
      return `${d.checks} checks, ${d.warnings} warning(s), ${d.inconclusive} inconclusive`;
    case "slo.warning":
    case "slo.breached":
      return `${d.slo}: measured ${num(d.value)} over limit ${num(d.threshold)}${d.breaches === undefined ? "" : ` (${d.breaches}/${d.limit})`}`;
    case "slo.inconclusive":
      return `${d.slo}: ${d.reason} (${d.count}/${d.limit})`;
    case "deploy.rolled_back":
      return `${d.from} → ${d.to} (${d.cause}) in ${ms(d.timeToRollbackMs)}${d.breach ? `, ${(d.breach as Data).slo} ${num((d.breach as Data).value)} > ${num((d.breach as Data).threshold)}` : ""}`;
    case "deploy.succeeded":
      return `${d.version} on ${d.color} in ${ms(d.durationMs)}`;
    case "deploy.failed":
    case "deploy.rejected":
      return `${d.stage ? `${d.stage}: ` : ""}${(d.error as Data | undefined)?.code ?? ""} ${(d.error as Data | undefined)?.message ?? ""}${d.exitCode === undefined ? "" : ` (exit ${d.exitCode})`}`;
    case "deploy.awaiting_promotion":
      return `${d.version} on ${d.color} waits for a promotion`;
    case "deploy.promote_requested":
    case "deploy.abort_requested":
    case "deploy.rollback_requested":
      return `${d.by ? `by ${d.by}` : ""}${d.reason ? `: ${d.reason}` : ""}`;
    default:
      return "";
  }
}

export function timelineRows(items: readonly { seq: number; event: WireEvent }[]): TimelineRow[] {
  const first = items[0] === undefined ? 0 : Date.parse(items[0].event.time);
  let prev = first;
  return items.map(({ seq, event }) => {
    const at = Date.parse(event.time);
    const name = event.type.replace(/^bluegreen\./, "");
    const data = (event.data ?? {}) as Data;
    const failedStep =
      name === "deploy.progress" && data.status !== "started" && data.status !== "succeeded";
    const row: TimelineRow = {
      seq,
      id: event.id,
      time: event.time,
      name,
      sinceStartMs: at - first,
      sincePrevMs: at - prev,
      detail: describe(name, data),
      tone: BAD.has(name) || failedStep ? "bad" : OK.has(name) ? "ok" : "info",
    };
    prev = at;
    return row;
  });
}
