import { colorSchema, monitorSchema, serviceNameSchema } from "@bluegreen/contracts";
import { z } from "zod";

/**
 * A watch as stored in KV (`bluegreen_watches`, key = service): everything needed to resume
 * it after a restart — the deployment, the colour and its nodes, the definition's monitor
 * section as it was at the switch, the deadline, every counter, and the scrape baselines.
 */

export const WatchStatus = {
  watching: "watching",
  passed: "passed",
  breached: "breached",
  inconclusive: "inconclusive",
  stopped: "stopped",
} as const;
export type WatchStatus = (typeof WatchStatus)[keyof typeof WatchStatus];

export const sloCountersSchema = z.object({
  checks: z.int().min(0),
  ok: z.int().min(0),
  breaches: z.int().min(0),
  inconclusive: z.int().min(0),
  consecutiveInconclusive: z.int().min(0),
  /** Currently over the threshold with `on_breach: warn` (a warning was published). */
  warning: z.boolean(),
  last: z
    .object({
      verdict: z.enum(["ok", "breach", "inconclusive"]),
      value: z.number().nullable(),
      reason: z.string().optional(),
    })
    .optional(),
});
export type SloCounters = z.infer<typeof sloCountersSchema>;

export const EMPTY_COUNTERS: SloCounters = Object.freeze({
  checks: 0,
  ok: 0,
  breaches: 0,
  inconclusive: 0,
  consecutiveInconclusive: 0,
  warning: false,
});

const countsSchema = z.record(z.string(), z.number());
export const scrapeBaselineSchema = z.object({
  /** When the baseline was scraped (ms since the epoch). */
  at: z.number(),
  families: z.record(z.string(), countsSchema),
});
export type ScrapeBaseline = z.infer<typeof scrapeBaselineSchema>;

export const watchStateSchema = z.object({
  v: z.literal(1),
  service: serviceNameSchema,
  deploymentId: z.string().min(1).max(64),
  color: colorSchema,
  version: z.string().max(200).optional(),
  instances: z.array(z.string().min(3).max(300)).min(1).max(64),
  monitor: monitorSchema,
  status: z.enum(["watching", "passed", "breached", "inconclusive", "stopped"]),
  /** Times in ms since the epoch. */
  startedAt: z.number(),
  deadline: z.number(),
  lastCheckAt: z.number(),
  /** Check rounds run so far (each measures every SLO). */
  checks: z.int().min(0),
  warnings: z.int().min(0),
  inconclusive: z.int().min(0),
  slos: z.record(z.string(), sloCountersSchema),
  /** Direct scrape only: the last samples per instance, the base of the next deltas. */
  scrape: z.record(z.string(), scrapeBaselineSchema).optional(),
  /** nginx source: the requests judged so far, real ones and probes apart. */
  evidence: z.object({ requests: z.int().min(0), probes: z.int().min(0) }).optional(),
  /** `monitor.started` was published for the current run of this watch. */
  announced: z.boolean(),
  /** How many times a monitor resumed this watch after a restart. */
  resumes: z.int().min(0),
  /** `<role>/<agentId>` of the monitor that runs it. */
  owner: z.string().max(128),
  endedAt: z.number().optional(),
  /** Why it ended: the SLO that decided, or what stopped it. */
  endReason: z.string().max(256).optional(),
});
export type WatchState = z.infer<typeof watchStateSchema>;

export interface NewWatch {
  service: string;
  deploymentId: string;
  color: WatchState["color"];
  version?: string | undefined;
  instances: string[];
  monitor: WatchState["monitor"];
  now: number;
  owner: string;
}

/** A fresh watch: the window starts now, every counter at zero. */
export function newWatch(w: NewWatch): WatchState {
  return {
    v: 1,
    service: w.service,
    deploymentId: w.deploymentId,
    color: w.color,
    ...(w.version === undefined ? {} : { version: w.version }),
    instances: w.instances,
    monitor: w.monitor,
    status: "watching",
    startedAt: w.now,
    deadline: w.now + w.monitor.window,
    lastCheckAt: w.now,
    checks: 0,
    warnings: 0,
    inconclusive: 0,
    slos: Object.fromEntries(w.monitor.slos.map((s) => [s.name, { ...EMPTY_COUNTERS }])),
    announced: false,
    resumes: 0,
    owner: w.owner,
  };
}

export function isWatching(
  state: WatchState | undefined,
): state is WatchState & { status: "watching" } {
  return state?.status === "watching";
}
