import { z } from "zod";
import { byWhomSchema, text } from "./common.ts";
import { defineEvent } from "./define.ts";

const iso = z.iso.datetime({ offset: true });

/** What a freeze covers: one service (the event's subject), or every service (subject `_`). */
export const freezeScopeSchema = z.enum(["service", "all"]);

export const freezeSet = defineEvent({
  name: "freeze.set",
  description:
    "An operator froze deploys of a service (or of every service: subject `_`, scope `all`) until a time or until lifted. While it holds, the coordinator rejects `deploy.requested` with BG_ERR_DEPLOY_FROZEN; a rollback is still allowed. The state is the KV key `_freeze.<service>` (or `_freeze._all`) of `bluegreen_locks`.",
  route: "`bluegreen freeze` → audit",
  deploymentId: "none",
  data: () =>
    z.strictObject({
      scope: freezeScopeSchema,
      by: byWhomSchema,
      reason: text(512),
      until: iso.optional(),
    }),
  example: {
    scope: "service",
    by: "alice@ops-1",
    reason: "incident 4711",
    until: "2026-11-30T08:00:00.000Z",
  },
});

export const freezeLifted = defineEvent({
  name: "freeze.lifted",
  description:
    "An operator lifted a freeze (`bluegreen unfreeze`); deploys are accepted again. A freeze whose `until` passed lapses by itself, without this event.",
  route: "`bluegreen unfreeze` → audit",
  deploymentId: "none",
  data: () =>
    z.strictObject({
      scope: freezeScopeSchema,
      by: byWhomSchema,
      reason: text(512).optional(),
    }),
  example: { scope: "service", by: "alice@ops-1", reason: "incident closed" },
});
