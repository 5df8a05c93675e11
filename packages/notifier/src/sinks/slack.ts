import { httpCall } from "@bluegreen/runtime";
import type { SendAnswer } from "../decide.ts";
import { DEFAULT_TEMPLATE, messageFields, renderTemplate } from "../render.ts";
import { classifyHttp, type Sink } from "./sink.ts";

export interface SlackSettings {
  name: string;
  url: string;
  template?: string | undefined;
  dashboardUrl?: string | undefined;
  timeoutMs: number;
  ratePerSecond: number;
  concurrency: number;
}

/** The body of a Slack-compatible incoming webhook (Mattermost and Rocket.Chat take it too). */
export function slackBody(
  cloudEvent: unknown,
  template = DEFAULT_TEMPLATE,
  dashboardUrl?: string,
): { text: string; attachments: { color: string; text: string; fallback: string }[] } {
  const fields = messageFields(cloudEvent as Parameters<typeof messageFields>[0], dashboardUrl);
  const text = renderTemplate(template, fields);
  const detail = [fields.deployment && `deployment ${fields.deployment}`, fields.event, fields.time]
    .filter((s) => s !== "")
    .join(" · ");
  return { text, attachments: [{ color: fields.color, text: detail, fallback: text }] };
}

export function slackSink(s: SlackSettings): Sink {
  return {
    name: s.name,
    type: "slack",
    ratePerSecond: s.ratePerSecond,
    concurrency: s.concurrency,
    async send(cloudEvent): Promise<SendAnswer> {
      return classifyHttp(
        await httpCall({
          url: s.url,
          method: "POST",
          json: slackBody(cloudEvent, s.template, s.dashboardUrl),
          headers: { "user-agent": "bluegreen-notifier" },
          timeoutMs: s.timeoutMs,
          maxBodyBytes: 1024,
        }),
      );
    },
  };
}
