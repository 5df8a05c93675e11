import { z } from "zod";
import { colorSchema } from "./names.ts";

/**
 * Records shared between agents through KV. The active-colour record (bucket
 * `bluegreen_active`, key = service) is the switch fence: a `switch.requested` names the
 * revision it expects, and the switcher writes the new record with compare-and-set.
 */
export const activeRecordSchema = z.object({
  color: colorSchema,
  /** The version the colour runs, when known (set by promotions). */
  version: z.string().max(200).nullable(),
  switchedAt: z.iso.datetime({ offset: true }),
  deploymentId: z.string().max(64).optional(),
  reason: z.enum(["promote", "rollback", "manual", "adopted", "initial"]),
  /** What served before this record, so a rollback knows where to go back to. */
  previous: z
    .object({ color: colorSchema, version: z.string().max(200).nullable() })
    .nullable()
    .optional(),
});
export type ActiveRecord = z.infer<typeof activeRecordSchema>;
