import { expandPlaceholders } from "@bluegreen/contracts";

/**
 * A short message a person reads (Slack-compatible chats, e-mail subjects and bodies): pure.
 * Placeholders: ${service} ${version} ${outcome} ${event} ${cause} ${duration} ${deployment}
 * ${link} ${emoji} ${time} ${source}.
 */

export const DEFAULT_TEMPLATE =
  "${emoji} *${service}* ${version}: ${outcome}${cause}${duration}${link}";
export const DEFAULT_SUBJECT = "[bluegreen] ${service} ${version}: ${outcome}";

export interface MessageFields {
  service: string;
  version: string;
  outcome: string;
  event: string;
  cause: string;
  duration: string;
  deployment: string;
  link: string;
  url: string;
  emoji: string;
  time: string;
  source: string;
  /** good, warning or danger: the attachment colour. */
  color: string;
}

interface EventLike {
  type: string;
  subject: string;
  time: string;
  source: string;
  deploymentid?: string | undefined;
  data?: unknown;
}

const OUTCOMES: Record<string, [outcome: string, color: string, emoji: string]> = {
  "deploy.succeeded": ["deployed", "good", "✅"],
  "deploy.rolled_back": ["rolled back", "danger", "↩️"],
  "deploy.failed": ["failed", "danger", "❌"],
  "deploy.aborted": ["aborted", "warning", "⏹️"],
  "deploy.rejected": ["rejected", "warning", "🚫"],
  "deploy.awaiting_promotion": ["waiting for promotion", "warning", "⏸️"],
  "slo.breached": ["SLO breached", "danger", "🔥"],
  "slo.warning": ["SLO warning", "warning", "⚠️"],
  "switch.failed": ["switch failed", "danger", "❌"],
  "switch.drift": ["upstream drift", "warning", "⚠️"],
  "agent.stale": ["agent silent", "danger", "💀"],
};

/** 850 ms, 12.5 s, 30 m 15 s. */
export function humanDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const s = Math.round(ms / 1_000);
  return `${Math.floor(s / 60)} m${s % 60 === 0 ? "" : ` ${s % 60} s`}`;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}

function causeOf(name: string, d: Record<string, unknown>): string | undefined {
  const error = d.error as { message?: unknown } | undefined;
  const breach = d.breach as { slo?: unknown; value?: unknown; threshold?: unknown } | undefined;
  if (name === "deploy.rolled_back" && breach !== undefined)
    return `${str(d.cause)}: ${str(breach.slo)} = ${str(breach.value) ?? "?"} > ${str(breach.threshold)}`;
  if (name === "slo.breached" || name === "slo.warning")
    return `${str(d.slo)} = ${str(d.value)} > ${str(d.threshold)}`;
  if (name === "agent.stale")
    return `${str(d.role)}/${str(d.agentId)} on ${str(d.host)}, last seen ${str(d.lastSeen)}`;
  if (name === "switch.drift") return `${str(d.file)}: ${str(d.action)}`;
  return str(error?.message) ?? str(d.cause) ?? str(d.reason);
}

export function messageFields(event: EventLike, dashboardUrl?: string): MessageFields {
  const name = event.type.replace(/^bluegreen\./, "");
  const d = (event.data ?? {}) as Record<string, unknown>;
  const [outcome, color, emoji] = OUTCOMES[name] ?? [name, "warning", "ℹ️"];
  const cause = causeOf(name, d);
  const ms = typeof d.durationMs === "number" ? d.durationMs : undefined;
  const url =
    dashboardUrl !== undefined && event.deploymentid !== undefined
      ? `${dashboardUrl.replace(/\/$/, "")}/deployments/${encodeURIComponent(event.subject)}/${encodeURIComponent(event.deploymentid)}`
      : "";
  return {
    service: event.subject,
    version: str(d.version) ?? "",
    outcome,
    event: name,
    cause: cause === undefined ? "" : ` (${cause})`,
    duration: ms === undefined ? "" : ` in ${humanDuration(ms)}`,
    deployment: event.deploymentid ?? "",
    link: url === "" ? "" : ` <${url}|deployment>`,
    url,
    emoji,
    time: event.time,
    source: event.source,
    color,
  };
}

export function renderTemplate(template: string, fields: MessageFields): string {
  const values = Object.fromEntries(Object.entries(fields)) as Record<string, string>;
  return expandPlaceholders(template, values).replace(/ {2,}/g, " ").trim();
}
