import { z } from "zod";
import { serviceNameSchema } from "./names.ts";

/**
 * One window of nginx requests (≤ 100 ms) as the switcher's request-log reader publishes it on
 * `bgstats.<service>` and the monitor's nginx source reads it: per upstream address (`host:port`
 * as nginx's `$upstream_addr` names it), the statuses and upstream response times of real
 * requests and, apart, of the monitor's probes (marked with the `x-bluegreen-probe` header).
 * An empty window is published too: it says the reader is alive.
 */

export const PROBE_HEADER = "x-bluegreen-probe";

/** Latencies kept per tally and window; more requests are counted, their latency sampled. */
export const MAX_WINDOW_LATENCIES = 2_000;

export const requestTallySchema = z.object({
  /** Requests per HTTP status (`"200": 41`). */
  statuses: z.record(z.string(), z.int().min(0)),
  /** Upstream response times in seconds (a sample when there were more than the cap). */
  latencies: z.array(z.number().min(0)).max(MAX_WINDOW_LATENCIES),
});
export type RequestTally = z.infer<typeof requestTallySchema>;

export const requestWindowSchema = z.object({
  v: z.literal(1),
  service: serviceNameSchema,
  /** The reader's agent id. */
  reader: z.string().max(128),
  /** The window, in ms since the epoch. */
  from: z.number(),
  to: z.number(),
  upstreams: z.record(
    z.string().max(300),
    z.object({ real: requestTallySchema, probe: requestTallySchema }),
  ),
});
export type RequestWindow = z.infer<typeof requestWindowSchema>;
