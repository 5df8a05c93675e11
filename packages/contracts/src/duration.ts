import { z } from "zod";

const UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
/** What `parseDuration` accepts of a string (it trims), for the exported JSON Schema. */
const DURATION_STRING = /^\s*\d+(?:\.\d+)?(?:ms|s|m|h|d)\s*$/;

/** Parses `500ms`, `1s`, `2.5s`, `10m`, `1h`, `7d` (or a bare number of milliseconds). */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = DURATION_PATTERN.exec(value.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Math.round(Number(amount) * UNITS_MS[unit as keyof typeof UNITS_MS]);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0 && ms > 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

const durationMessage = (value: unknown) =>
  `expected a duration such as "500ms", "30s", "10m" or "1h", got ${JSON.stringify(value)}`;

/** A duration in config: `"10m"`, `"1s"`, `"250ms"` or a number of milliseconds; parsed to ms. */
export const durationSchema = z
  .union([
    z.string().regex(DURATION_STRING, { error: (issue) => durationMessage(issue.input) }),
    z.number().min(0, { error: (issue) => durationMessage(issue.input) }),
  ])
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({
        code: "custom",
        message: durationMessage(value),
      });
      return z.NEVER;
    }
    return ms;
  });
