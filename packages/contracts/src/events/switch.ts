import { z } from "zod";
import { colorSchema } from "../names.ts";
import {
  byWhomSchema,
  durationMsSchema,
  errorInfoSchema,
  optionalColorSchema,
  text,
} from "./common.ts";
import { defineEvent } from "./define.ts";

export const switchReasonSchema = z.enum(["promote", "rollback", "manual"]);
export type SwitchReason = z.infer<typeof switchReasonSchema>;

export const switchRequested = defineEvent({
  name: "switch.requested",
  description:
    "Point the service's upstream at an explicit colour (never a toggle). `expectedRevision` fences the switch: it must equal the current revision of the active-colour record (0 when none exists yet). `deadline` (set by the coordinator: its switching deadline) is when the deployment stops waiting for the answer; a switcher that gets the request later refuses it, stage `expired`, touching nothing.",
  route: "coordinator, `bluegreen switch` → switcher",
  deploymentId: "optional",
  data: () =>
    z.strictObject({
      to: colorSchema,
      reason: switchReasonSchema,
      expectedRevision: z.int().min(0),
      version: text(200).optional(),
      by: byWhomSchema.optional(),
      deadline: z.iso.datetime({ offset: true }).optional(),
    }),
  example: {
    to: "green",
    reason: "promote",
    expectedRevision: 7,
    version: "v1.1",
    deadline: "2026-11-26T11:00:35.000Z",
  },
});

export const switchTimingsSchema = z.strictObject({
  probeMs: durationMsSchema.optional(),
  writeMs: durationMsSchema.optional(),
  testMs: durationMsSchema.optional(),
  reloadMs: durationMsSchema.optional(),
  verifyMs: durationMsSchema.optional(),
  recordMs: durationMsSchema.optional(),
  totalMs: durationMsSchema,
});

export const switchDone = defineEvent({
  name: "switch.done",
  description:
    "nginx now serves the target colour (verified through nginx) and the active colour is recorded. `changed: false` means it already did: nothing was reloaded.",
  route: "switcher → coordinator, monitor, audit",
  deploymentId: "optional",
  data: () =>
    z.strictObject({
      from: optionalColorSchema,
      to: colorSchema,
      changed: z.boolean(),
      reason: switchReasonSchema,
      revision: z.int().min(0),
      version: text(200).optional(),
      timings: switchTimingsSchema,
    }),
  example: {
    from: "blue",
    to: "green",
    changed: true,
    reason: "promote",
    revision: 8,
    version: "v1.1",
    timings: {
      probeMs: 3,
      writeMs: 1,
      testMs: 9,
      reloadMs: 6,
      verifyMs: 28,
      recordMs: 2,
      totalMs: 49,
    },
  },
});

export const switchFailed = defineEvent({
  name: "switch.failed",
  description:
    "The switch did not happen; `restored` says the previous upstream file is back in place and `activeColor` what nginx serves.",
  route: "switcher → coordinator, audit",
  deploymentId: "optional",
  data: () =>
    z.strictObject({
      to: colorSchema,
      reason: switchReasonSchema,
      stage: z.enum([
        "fence",
        "expired",
        "probe",
        "write",
        "test",
        "reload",
        "verify",
        "record",
        "config",
      ]),
      error: errorInfoSchema,
      output: text(4096).optional(),
      restored: z.boolean(),
      activeColor: optionalColorSchema,
    }),
  example: {
    to: "green",
    reason: "promote",
    stage: "test",
    error: {
      code: "BG_ERR_SWITCH_NGINX_TEST_FAILED",
      message:
        'nginx rejected the configuration; previous upstream file restored: unknown directive "proxy_passs"',
      retryable: false,
    },
    output: 'nginx: [emerg] unknown directive "proxy_passs" in /etc/nginx/sites-enabled/emily:12',
    restored: true,
    activeColor: "blue",
  },
});

export const switchDrift = defineEvent({
  name: "switch.drift",
  description:
    "The upstream file (or, with `served`, what nginx serves) did not match the recorded active colour, found at start-up or while running (`while: running`); `action` says whether the switcher re-applied the record, adopted the file, or only reported.",
  route: "switcher → audit",
  deploymentId: "none",
  data: () =>
    z.strictObject({
      file: text(1024),
      recorded: optionalColorSchema,
      found: optionalColorSchema,
      action: z.enum(["reapplied", "adopted", "reported"]),
      /** The colour nginx answered with, when the file matched the record but nginx did not. */
      served: optionalColorSchema.optional(),
      /** When it was found: at start-up (the default) or while the switcher ran. */
      while: z.enum(["startup", "running"]).optional(),
    }),
  example: {
    file: "/etc/nginx/bluegreen/emily-active.conf",
    recorded: "green",
    found: "blue",
    action: "reapplied",
  },
});
