import { BgError, type NotifierConfig, type SinkConfig } from "@bluegreen/contracts";
import {
  type AgentContext,
  type AgentMainOptions,
  childLogger,
  type Logger,
  type StartedAgent,
  TransitionRunner,
  VERSION,
} from "@bluegreen/runtime";
import type { KV } from "nats";
import { type DeliveryContext, decide } from "./decide.ts";
import { DeliveryEffects } from "./effects.ts";
import { Lane } from "./lane.ts";
import { type NotifierMetrics, notifierMetrics } from "./metrics.ts";
import { type DeliveryRunner, Notifier } from "./notifier.ts";
import { unknownSinks } from "./routes.ts";
import { readSecret } from "./secrets.ts";
import { emailSink } from "./sinks/email.ts";
import type { Sink } from "./sinks/sink.ts";
import { slackSink } from "./sinks/slack.ts";
import { webhookSink } from "./sinks/webhook.ts";
import { DeliveryStore } from "./store.ts";

/**
 * The notifier's wiring: config → sinks (secrets read from files or the environment) → one lane
 * per sink → the transition runner over `bluegreen_notifications` → the stream consumer.
 */

export async function startNotifier(ctx: AgentContext<"notifier">): Promise<StartedAgent> {
  const { config, bus, logger } = ctx;
  const sinks = buildSinks(config);
  const metrics = notifierMetrics(ctx.metrics, [...sinks.keys()]);
  const { runner, lanes } = deliveryRunner({
    config,
    sinks,
    kv: ctx.kv.notifications,
    metrics,
    logger,
  });
  const notifier = new Notifier({
    config,
    bus,
    kv: { notifications: ctx.kv.notifications, agents: ctx.kv.agents },
    runner,
    lanes,
    metrics,
    logger,
  });
  await notifier.start();
  return {
    stop: async () => {
      await notifier.stop();
      for (const sink of sinks.values()) sink.close?.();
    },
  };
}

/** The configured sinks, their secrets resolved; a route naming no sink stops the start. */
export function buildSinks(config: NotifierConfig, env = process.env): Map<string, Sink> {
  const problems = unknownSinks(config);
  const names = config.sinks.map((s) => s.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  for (const name of new Set(twice)) problems.push(`sinks: '${name}' is named twice`);
  if (problems.length > 0)
    throw new BgError("BG_ERR_CONFIG_INVALID", { problems: problems.join("; ") });
  return new Map(config.sinks.map((s) => [s.name, buildSink(s, config.dashboard_url, env)]));
}

function buildSink(s: SinkConfig, dashboardUrl: string | undefined, env: NodeJS.ProcessEnv): Sink {
  const common = {
    name: s.name,
    timeoutMs: s.timeout,
    ratePerSecond: s.rate_per_second,
    concurrency: s.concurrency,
  };
  const what = `sinks.${s.name}`;
  if (s.type === "email") {
    return emailSink({
      ...common,
      host: s.smtp.host,
      port: s.smtp.port,
      secure: s.smtp.secure,
      requireTls: s.smtp.require_tls,
      caFile: s.smtp.ca_file,
      user: s.smtp.user,
      password:
        s.smtp.password === undefined
          ? undefined
          : readSecret(s.smtp.password, `${what}.smtp.password`, env),
      from: s.from,
      to: s.to,
      subject: s.subject,
      dashboardUrl,
    });
  }
  const url = s.url ?? readSecret(s.url_secret ?? {}, `${what}.url_secret`, env);
  if (s.type === "slack") return slackSink({ ...common, url, template: s.template, dashboardUrl });
  const headers: Record<string, string> = {};
  for (const h of s.headers) {
    headers[h.name.toLowerCase()] = h.value ?? readSecret(h, `${what}.headers.${h.name}`, env);
  }
  return webhookSink({
    ...common,
    url,
    headers,
    signingSecret:
      s.signing_secret === undefined
        ? undefined
        : readSecret(s.signing_secret, `${what}.signing_secret`, env),
  });
}

export interface DeliveryRunnerDeps {
  config: Pick<NotifierConfig, "delivery">;
  sinks: ReadonlyMap<string, Sink>;
  kv: KV;
  metrics: NotifierMetrics;
  logger: Logger;
}

/** The deliveries' runner (key: `<sink>.<event id>`) and one lane per sink feeding it. */
export function deliveryRunner(deps: DeliveryRunnerDeps): {
  runner: DeliveryRunner;
  lanes: Map<string, Lane>;
} {
  const lanes = new Map<string, Lane>();
  const logger = childLogger(deps.logger, { component: "delivery" });
  const effects = new DeliveryEffects({ sinks: deps.sinks, lanes, metrics: deps.metrics, logger });
  const d = deps.config.delivery;
  const runner: DeliveryRunner = new TransitionRunner({
    store: new DeliveryStore(deps.kv),
    decide,
    context: (): DeliveryContext => ({
      now: Date.now(),
      maxTries: d.max_tries,
      maxAgeMs: d.max_age,
      backoffMs: d.backoff,
      backoffMaxMs: d.backoff_max,
      random: Math.random(),
    }),
    carryOut: (command, state, key) => effects.carryOut(command, state, key),
    // Read back after a crash, only a schedule is worth repeating (a settled one was counted).
    pendingToFinish: async (stored) => stored.pending.filter((c) => c.kind === "schedule"),
  });
  for (const [name, sink] of deps.sinks) {
    lanes.set(
      name,
      new Lane({
        ratePerSecond: sink.ratePerSecond,
        concurrency: sink.concurrency,
        pauseMs: d.backoff,
        pauseMaxMs: d.backoff_max,
        run: async (key) => {
          await runner.apply(key, { kind: "due" });
        },
        onError: (key, err) => {
          // KV unreachable, a lost race: the record is still pending, so it is tried again.
          logger.warn({ err, key }, "delivery step failed; trying again in 5 s");
          lanes.get(name)?.schedule(key, Date.now() + 5_000);
        },
      }),
    );
  }
  return { runner, lanes };
}

/** The agent's process entry: `bluegreen-notifier` (main.ts) and `bluegreen agent notifier`. */
export const NOTIFIER_MAIN: AgentMainOptions<"notifier"> = {
  command: "bluegreen-notifier",
  role: "notifier",
  description: `Runs the notifier agent: reads the event stream and tells people. Routes events
(deploy.rolled_back, deploy.failed, slo.breached, agent.stale, …) by service to webhooks
(signed CloudEvents), Slack-compatible chats and e-mail; each delivery is recorded in KV
(bluegreen_notifications) and retried with backoff until delivered or given up.`,
  start: startNotifier,
  version: VERSION,
  docs: "docs/notifier.md",
};
