import type { z } from "zod";

/** Whether an event carries the `deploymentid` CloudEvents extension. */
export type DeploymentIdRule = "required" | "optional" | "none";

export interface EventSpec<N extends string = string, D extends z.ZodType = z.ZodType> {
  /** `<family>.<event>`; the CloudEvents type is `bluegreen.<name>`. */
  readonly name: N;
  readonly description: string;
  readonly producer: string;
  readonly consumers: readonly string[];
  readonly deploymentId: DeploymentIdRule;
  /** False for chatter kept out of the audit stream (heartbeats). */
  readonly audit: boolean;
  readonly data: D;
  readonly example: z.input<D>;
}

/** What an event file writes: who sends it to whom in one line, the deployment id rule if not required. */
export type EventDefinition<N extends string, D extends z.ZodType> = Omit<
  EventSpec<N, D>,
  "audit" | "producer" | "consumers" | "deploymentId" | "data"
> & {
  /**
   * Builds the data schema, on the first read of `spec.data`: a process builds the schemas
   * of the events it handles only (~0.2–0.5 MB of heap less than building all 32).
   */
  readonly data: () => D;
  /** `"<producer> → <consumer>, <consumer>"`, e.g. `"node-agent → coordinator, audit"`. */
  readonly route: string;
  /** Default "required". */
  readonly deploymentId?: DeploymentIdRule;
  /** Default true. */
  readonly audit?: boolean;
};

/** Splits a route into its producer and its consumers. */
export function parseRoute(route: string): { producer: string; consumers: string[] } {
  const [producer, consumers, extra] = route.split("→").map((part) => part.trim());
  if (!producer || !consumers || extra !== undefined)
    throw new Error(`event route "${route}" is not "<producer> → <consumer>, …"`);
  return { producer, consumers: consumers.split(",").map((c) => c.trim()) };
}

export function defineEvent<N extends string, D extends z.ZodType>(
  def: EventDefinition<N, D>,
): EventSpec<N, D> {
  const { route, deploymentId, audit, data, ...rest } = def;
  let schema: D | undefined;
  const spec = {
    ...rest,
    ...parseRoute(route),
    deploymentId: deploymentId ?? "required",
    audit: audit ?? true,
    get data(): D {
      schema ??= data();
      return schema;
    },
  };
  return Object.freeze(spec);
}
