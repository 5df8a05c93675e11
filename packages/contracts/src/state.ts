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

/**
 * A deploy freeze (bucket `bluegreen_locks`, key `_freeze.<service>`, or `_freeze._all` for
 * every service), written by `bluegreen freeze` and deleted by `bluegreen unfreeze`. The
 * coordinator reads it in pre-flight: while it holds (no `until`, or `until` still ahead), a
 * deploy is rejected with BG_ERR_DEPLOY_FROZEN; a rollback is let through.
 */
export const freezeRecordSchema = z.object({
  scope: z.enum(["service", "all"]),
  by: z.string().max(128),
  reason: z.string().max(512),
  at: z.iso.datetime({ offset: true }),
  until: z.iso.datetime({ offset: true }).optional(),
});
export type FreezeRecord = z.infer<typeof freezeRecordSchema>;

/** The key of every service's freeze in `bluegreen_locks`. */
export const FREEZE_ALL = "_all";

/** `_freeze.emily` (or `_freeze._all` for every service): no service name starts with `_`. */
export function freezeKey(service: string | typeof FREEZE_ALL): string {
  return `_freeze.${service}`;
}

/** Whether a freeze still holds at `now` (one without `until` holds until lifted). */
export function freezeHolds(freeze: FreezeRecord, now: Date): boolean {
  return freeze.until === undefined || Date.parse(freeze.until) > now.getTime();
}
