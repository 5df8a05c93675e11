import { readFileSync } from "node:fs";
import { createTransport, type Transporter } from "nodemailer";
import type { SendAnswer } from "../decide.ts";
import { DEFAULT_SUBJECT, DEFAULT_TEMPLATE, messageFields, renderTemplate } from "../render.ts";
import type { Sink } from "./sink.ts";

export interface EmailSettings {
  name: string;
  host: string;
  port: number;
  secure: boolean;
  requireTls: boolean;
  caFile?: string | undefined;
  user?: string | undefined;
  /** Resolved at start-up; never logged. */
  password?: string | undefined;
  from: string;
  to: readonly string[];
  subject?: string | undefined;
  dashboardUrl?: string | undefined;
  timeoutMs: number;
  ratePerSecond: number;
  concurrency: number;
}

/**
 * An SMTP answer, classified: a 4xx reply is the server's "try later", a 5xx reply is final;
 * no connection, a timeout or a dropped connection is tried again.
 */
export function classifySmtp(err: unknown): SendAnswer {
  const e = err as { responseCode?: unknown; code?: unknown; message?: unknown };
  const code = typeof e.responseCode === "number" ? e.responseCode : undefined;
  if (code !== undefined && code >= 500) return { outcome: "final", result: `SMTP ${code}` };
  if (code !== undefined) return { outcome: "retry", result: `SMTP ${code}` };
  return { outcome: "retry", result: typeof e.code === "string" ? e.code : "SMTP error" };
}

/** A plain-text mail per event: the readable line, the details, the event as JSON below. */
export function emailSink(s: EmailSettings): Sink {
  const transport: Transporter = createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    requireTLS: s.requireTls,
    ...(s.caFile === undefined ? {} : { tls: { ca: readFileSync(s.caFile, "utf8") } }),
    ...(s.user === undefined ? {} : { auth: { user: s.user, pass: s.password ?? "" } }),
    connectionTimeout: s.timeoutMs,
    greetingTimeout: s.timeoutMs,
    socketTimeout: s.timeoutMs,
    pool: s.concurrency > 1,
    maxConnections: s.concurrency,
    logger: false,
  });
  return {
    name: s.name,
    type: "email",
    ratePerSecond: s.ratePerSecond,
    concurrency: s.concurrency,
    async send(cloudEvent): Promise<SendAnswer> {
      const fields = messageFields(
        cloudEvent as Parameters<typeof messageFields>[0],
        s.dashboardUrl,
      );
      const id = (cloudEvent as { id?: unknown }).id;
      try {
        const info = await transport.sendMail({
          from: s.from,
          to: [...s.to],
          subject: renderTemplate(s.subject ?? DEFAULT_SUBJECT, fields),
          text: `${renderTemplate(DEFAULT_TEMPLATE, { ...fields, link: "" })}\n${fields.url}\n\n${JSON.stringify(cloudEvent, null, 2)}\n`,
          headers: typeof id === "string" ? { "X-Bluegreen-Event-Id": id } : {},
        });
        return { outcome: "ok", result: String(info.response ?? "sent").slice(0, 200) };
      } catch (err) {
        return classifySmtp(err);
      }
    },
    close: () => transport.close(),
  };
}
