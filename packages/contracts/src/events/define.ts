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

export function defineEvent<N extends string, D extends z.ZodType>(
  spec: Omit<EventSpec<N, D>, "audit"> & { audit?: boolean },
): EventSpec<N, D> {
  return Object.freeze({ ...spec, audit: spec.audit ?? true });
}
