import { z } from "zod";
import { errorCodeSchema } from "./events/common.ts";
import { WRAPPERS } from "./fields.ts";

/**
 * Versions and compatibility of events (docs/events.md, "Versions and compatibility").
 *
 * Every event a bluegreen producer builds names the contract version its `data` follows in the
 * CloudEvents `dataschema` attribute: `https://bluegreen.dev/schemas/<major>.<minor>/events/<name>.json`.
 * A consumer reads `data` strictly (an unknown field is refused) unless the event declares a
 * newer minor version of the same major: then fields it does not know, at any depth, are
 * ignored, and so are error codes it does not know. Everything it does know is still checked.
 * An event without `dataschema` (written by hand, by CI, or by a producer older than
 * versioning) is read strictly. Another major version is refused.
 */
export const CONTRACT_VERSION = { major: 1, minor: 0 } as const;
export const CONTRACT_VERSION_STRING = `${CONTRACT_VERSION.major}.${CONTRACT_VERSION.minor}`;

export const SCHEMA_BASE = "https://bluegreen.dev/schemas";

export interface ContractVersion {
  readonly major: number;
  readonly minor: number;
}

/** The `dataschema` of an event: the `$id` of its JSON Schema in docs/schemas/events/. */
export function dataschemaUri(name: string, version: ContractVersion = CONTRACT_VERSION): string {
  return `${SCHEMA_BASE}/${version.major}.${version.minor}/events/${name}.json`;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const NUMBER = "(?:0|[1-9]\\d*)";

/** A regular expression source matching the decimal numbers greater than `n`. */
export function greaterThanPattern(n: number): string {
  const digits = String(n);
  const alternatives = [`[1-9]\\d{${digits.length},}`];
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[i]);
    if (d < 9) {
      const rest = digits.length - i - 1;
      alternatives.push(`${digits.slice(0, i)}[${d + 1}-9]${rest > 0 ? `\\d{${rest}}` : ""}`);
    }
  }
  return `(?:${alternatives.join("|")})`;
}

/** `dataschema` values this version accepts for an event: its own major, any minor. */
export function dataschemaPattern(name: string): string {
  return `^${escapeRegExp(`${SCHEMA_BASE}/${CONTRACT_VERSION.major}.`)}${NUMBER}${escapeRegExp(`/events/${name}.json`)}$`;
}

/** `dataschema` values of a newer minor version than this one: read leniently. */
export function newerDataschemaPattern(name: string): string {
  return `^${escapeRegExp(`${SCHEMA_BASE}/${CONTRACT_VERSION.major}.`)}${greaterThanPattern(CONTRACT_VERSION.minor)}${escapeRegExp(`/events/${name}.json`)}$`;
}

const ANY_VERSION =
  /^https:\/\/bluegreen\.dev\/schemas\/(0|[1-9]\d*)\.(0|[1-9]\d*)\/events\/([a-z_]+\.[a-z_]+)\.json$/;

/** The version a `dataschema` names, when it is a bluegreen schema of this event. */
export function versionOfDataschema(value: unknown, name: string): ContractVersion | undefined {
  if (typeof value !== "string") return undefined;
  const match = ANY_VERSION.exec(value);
  if (!match || match[3] !== name) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]) };
}

/** How this version reads an event of `version`. */
export function readingOf(version: ContractVersion | undefined): "strict" | "lenient" | "refused" {
  if (version === undefined) return "strict";
  if (version.major !== CONTRACT_VERSION.major) return "refused";
  return version.minor > CONTRACT_VERSION.minor ? "lenient" : "strict";
}

/** An error code of a newer version: well formed, maybe not in this catalogue. */
const wellFormedErrorCode = z.string().regex(/^BG_ERR_[A-Z0-9_]+$/, "expected an error code");

type Schema = z.core.$ZodType;
type Def = Record<string, unknown> & { type: string };

/**
 * The same schema read leniently: objects drop the keys they do not know (at any depth) instead
 * of refusing them, and an error code only has to be well formed. Every other rule stays.
 */
export function lenient<S extends Schema>(schema: S): S {
  if ((schema as unknown) === errorCodeSchema) return wellFormedErrorCode as unknown as S;
  const def = schema._zod.def as unknown as Def;
  const clone = (changes: Partial<Def>) =>
    (schema as unknown as z.ZodType).clone({ ...def, ...changes } as never) as unknown as S;
  const inner = (key: string) => lenient(def[key] as Schema);
  if (WRAPPERS.has(def.type)) return clone({ innerType: inner("innerType") });
  switch (def.type) {
    case "object": {
      const shape = Object.fromEntries(
        Object.entries(def.shape as Record<string, Schema>).map(([k, v]) => [k, lenient(v)]),
      );
      const catchall = def.catchall as Schema | undefined;
      const strict = catchall !== undefined && catchall._zod.def.type === "never";
      return clone({ shape, catchall: strict ? undefined : catchall });
    }
    case "array":
      return clone({ element: inner("element") });
    case "union":
      return clone({ options: (def.options as Schema[]).map((o) => lenient(o)) });
    case "pipe":
      return clone({ in: inner("in"), out: inner("out") });
    case "record":
      return clone({ valueType: inner("valueType") });
    default:
      return schema;
  }
}
