/** Contract types the monitor uses, named once. */
import type { ServiceDefinition } from "@bluegreen/contracts";

export type { Color, EventDataInput, Slo } from "@bluegreen/contracts";
export type MonitorConfigSection = ServiceDefinition["monitor"];
