import { z } from "zod";
import {
  CONTRACT_VERSION_STRING,
  dataschemaPattern,
  dataschemaUri,
  lenient,
  readingOf,
  versionOfDataschema,
} from "./compat.ts";
import { BgError, type ErrorCode } from "./errors.ts";
import { EVENTS, type EventName, isEventName } from "./events/index.ts";
import {
  formatIssues,
  type Issue,
  onlyUnknownKeys,
  readableErrors,
  toIssues,
  unknownFieldMessage,
} from "./issues.ts";
import { SERVICE_NAME_PATTERN } from "./names.ts";
import { NO_SERVICE, parseSubject } from "./subjects.ts";

/**
 * The CloudEvents 1.0 structured JSON envelope every message carries. `type` is
 * `bluegreen.<family>.<event>`, `subject` the service, `deploymentid` an extension attribute.
 */
export const TYPE_PREFIX = "bluegreen.";
/** Messages larger than this are refused before parsing. */
export const MAX_EVENT_BYTES = 64 * 1024;

export const EVENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const DEPLOYMENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const eventIdSchema = z
  .string()
  .regex(EVENT_ID_PATTERN, "event id must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$");
export const deploymentIdSchema = z
  .string()
  .regex(DEPLOYMENT_ID_PATTERN, "deployment id must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$");

const eventSubjectSchema = z
  .string()
  .meta({ pattern: `^(?:${SERVICE_NAME_PATTERN.source.slice(1, -1)}|${NO_SERVICE})$` })
  .refine(
    (s) => SERVICE_NAME_PATTERN.test(s) || s === NO_SERVICE,
    "subject must be the service name",
  );

const baseEnvelope = {
  specversion: z.literal("1.0"),
  id: eventIdSchema,
  source: z.string().min(1).max(256),
  time: z.iso.datetime({ offset: true }),
  subject: eventSubjectSchema,
  datacontenttype: z.literal("application/json").optional(),
};

/** The attributes bluegreen defines; any other top-level key is a CloudEvents extension. */
export const ENVELOPE_ATTRIBUTES = [
  ...Object.keys(baseEnvelope),
  "type",
  "dataschema",
  "deploymentid",
  "data",
] as const;

/** CloudEvents attribute names: lower-case letters and digits only (spec 1.0, 3.1.1). */
export const ATTRIBUTE_NAME_PATTERN = /^[a-z0-9]+$/;

/** An extension attribute's value: a JSON scalar (CloudEvents' type system has no objects). */
const extensionValue = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: "an extension attribute is a string, a number or a boolean",
});

/** Extension attributes are allowed, as the spec says; a name it does not allow is refused. */
function checkAttributeNames(event: Record<string, unknown>, ctx: z.RefinementCtx): void {
  for (const key of Object.keys(event)) {
    if (ATTRIBUTE_NAME_PATTERN.test(key)) continue;
    const { message, suggestion } = unknownFieldMessage(
      key,
      [],
      "a CloudEvent (extension attribute names are lower-case letters and digits)",
      ENVELOPE_ATTRIBUTES,
    );
    ctx.addIssue({
      code: "custom",
      path: [key],
      message,
      params: { unknownKey: key, ...(suggestion === undefined ? {} : { suggestion }) },
    });
  }
}

/** The event without its extension attributes: what the runtime works with. */
function knownAttributes<T extends object>(event: T): T {
  const out: Record<string, unknown> = {};
  for (const key of ENVELOPE_ATTRIBUTES) {
    const value = (event as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}

type Spec<N extends EventName> = (typeof EVENTS)[N];
export type EventData<N extends EventName> = z.output<Spec<N>["data"]>;
export type EventDataInput<N extends EventName> = z.input<Spec<N>["data"]>;

export interface BgEvent<N extends EventName = EventName> {
  specversion: "1.0";
  id: string;
  source: string;
  type: `bluegreen.${N}`;
  time: string;
  subject: string;
  datacontenttype?: "application/json";
  /** The contract version `data` follows; see docs/events.md, "Versions and compatibility". */
  dataschema?: string;
  deploymentid?: string;
  data: EventData<N>;
}
/** Any event, narrowed by `type`. */
export type AnyBgEvent = { [N in EventName]: BgEvent<N> }[EventName];

export type Reading = "strict" | "lenient";
const schemaCache = new Map<string, z.ZodType>();

/**
 * The full CloudEvent schema of one event type (envelope + data). `lenient` reads the data of
 * a newer minor version: keys it does not know are dropped instead of refused.
 */
export function eventSchema<N extends EventName>(
  name: N,
  reading: Reading = "strict",
): z.ZodType<BgEvent<N>> {
  const cacheKey = `${reading}:${name}`;
  let schema = schemaCache.get(cacheKey);
  if (!schema) {
    const spec = EVENTS[name];
    const deploymentid =
      spec.deploymentId === "required"
        ? deploymentIdSchema
        : spec.deploymentId === "optional"
          ? deploymentIdSchema.optional()
          : z.undefined({ message: "this event carries no deploymentid" }).optional();
    const dataschema = z
      .string()
      .regex(
        new RegExp(dataschemaPattern(name)),
        `expected ${dataschemaUri(name)} (or the same URI with another minor version)`,
      )
      .optional();
    schema = z
      .object({
        ...baseEnvelope,
        type: z.literal(`${TYPE_PREFIX}${name}`),
        dataschema,
        deploymentid,
        data: reading === "lenient" ? lenient(spec.data) : spec.data,
      })
      .catchall(extensionValue)
      .superRefine(checkAttributeNames);
    schemaCache.set(cacheKey, schema);
  }
  return schema as z.ZodType<BgEvent<N>>;
}

/** How a parse failure is coded: an unsafe version, only unknown keys, or anything else. */
function codeForIssues(issues: readonly Issue[]): ErrorCode {
  if (issues.some((i) => i.message.startsWith("unsafe version"))) return "BG_ERR_VERSION_UNSAFE";
  return onlyUnknownKeys(issues) ? "BG_ERR_EVENT_UNKNOWN_FIELD" : "BG_ERR_EVENT_INVALID";
}

/** The event's problems, unknown keys named with the closest field. */
function eventIssues(name: EventName, error: z.ZodError, input: unknown): Issue[] {
  return toIssues(error, {
    schema: eventSchema(name),
    input,
    kind: `a ${TYPE_PREFIX}${name} event`,
  });
}

export function eventNameOfType(type: string): EventName | undefined {
  if (!type.startsWith(TYPE_PREFIX)) return undefined;
  const name = type.slice(TYPE_PREFIX.length);
  return isEventName(name) ? name : undefined;
}

export interface CreateEventOptions<N extends EventName> {
  service: string;
  source: string;
  data: EventDataInput<N>;
  deploymentId?: string | undefined;
  id?: string;
  time?: Date;
}

/** Builds and validates an event; a producer bug surfaces here, not at the consumer. */
export function createEvent<N extends EventName>(name: N, opts: CreateEventOptions<N>): BgEvent<N> {
  const raw = {
    specversion: "1.0",
    id: opts.id ?? globalThis.crypto.randomUUID(),
    source: opts.source,
    type: `${TYPE_PREFIX}${name}`,
    time: (opts.time ?? new Date()).toISOString(),
    subject: opts.service,
    datacontenttype: "application/json",
    dataschema: dataschemaUri(name),
    ...(opts.deploymentId === undefined ? {} : { deploymentid: opts.deploymentId }),
    data: opts.data,
  };
  const result = eventSchema(name).safeParse(raw, { error: readableErrors });
  if (!result.success) {
    const issues = eventIssues(name, result.error, raw);
    throw new BgError(
      onlyUnknownKeys(issues) ? "BG_ERR_EVENT_UNKNOWN_FIELD" : "BG_ERR_EVENT_INVALID",
      { type: raw.type, problems: formatIssues(issues) },
      { details: issues },
    );
  }
  return knownAttributes(result.data);
}

export type ParseResult<N extends EventName = EventName> =
  | { ok: true; event: BgEvent<N> }
  | {
      ok: false;
      error: BgError;
      issues: Issue[];
      /** What could be read of the message, for the rejection event. */
      id?: string;
      type?: string;
      deploymentId?: string;
    };

function rejection(
  code: ErrorCode,
  params: Record<string, string | number>,
  issues: Issue[] = [],
  seen: { id?: unknown; type?: unknown; deploymentid?: unknown } = {},
): ParseResult<never> {
  const str = (v: unknown) => (typeof v === "string" ? v.slice(0, 128) : undefined);
  const id = str(seen.id);
  const type = str(seen.type);
  const deploymentId =
    typeof seen.deploymentid === "string" && DEPLOYMENT_ID_PATTERN.test(seen.deploymentid)
      ? seen.deploymentid
      : undefined;
  return {
    ok: false,
    error: new BgError(code, params, { details: issues }),
    issues,
    ...(id === undefined ? {} : { id }),
    ...(type === undefined ? {} : { type }),
    ...(deploymentId === undefined ? {} : { deploymentId }),
  };
}

export interface ParseOptions<N extends EventName> {
  /** The subject the message arrived on; checked against the event's service and type. */
  subject?: string;
  /** Accept only these event types. */
  expect?: readonly N[];
}

/**
 * Reads a message from the wire. Never throws: anything that is not a valid bluegreen event
 * comes back as a coded error with every problem listed.
 */
export function parseEvent<N extends EventName = EventName>(
  payload: Uint8Array | string,
  opts: ParseOptions<N> = {},
): ParseResult<N> {
  const size = typeof payload === "string" ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_EVENT_BYTES)
    return rejection("BG_ERR_EVENT_TOO_LARGE", { size, limit: MAX_EVENT_BYTES });
  let json: unknown;
  try {
    const textPayload =
      typeof payload === "string"
        ? payload
        : new TextDecoder("utf-8", { fatal: true }).decode(payload);
    json = JSON.parse(textPayload);
  } catch (err) {
    return rejection("BG_ERR_EVENT_MALFORMED_JSON", {
      reason: err instanceof Error ? err.message : String(err),
    });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return rejection("BG_ERR_EVENT_INVALID", {
      type: "(none)",
      problems: "(root): expected a JSON object",
    });
  }
  const seen = json as Record<string, unknown>;
  if (seen.specversion === undefined) {
    const issue: Issue = {
      path: "specversion",
      message: 'is required: an event is a CloudEvents 1.0 JSON document with "specversion": "1.0"',
    };
    const type = typeof seen.type === "string" ? seen.type.slice(0, 128) : "(none)";
    return rejection(
      "BG_ERR_EVENT_INVALID",
      { type, problems: formatIssues([issue]) },
      [issue],
      seen,
    );
  }
  if (seen.specversion !== "1.0") {
    return rejection(
      "BG_ERR_EVENT_SPECVERSION",
      { specversion: JSON.stringify(seen.specversion).slice(0, 32) },
      [],
      seen,
    );
  }
  const name = typeof seen.type === "string" ? eventNameOfType(seen.type) : undefined;
  if (name === undefined) {
    return rejection(
      "BG_ERR_EVENT_UNKNOWN_TYPE",
      { type: String(seen.type).slice(0, 128) },
      [],
      seen,
    );
  }
  if (opts.expect !== undefined && !opts.expect.includes(name as N)) {
    return rejection(
      "BG_ERR_EVENT_UNEXPECTED_TYPE",
      { type: String(seen.type), subject: (opts.subject ?? "(any)").slice(0, 200) },
      [],
      seen,
    );
  }
  const version = versionOfDataschema(seen.dataschema, name);
  const reading = readingOf(version);
  if (reading === "refused") {
    return rejection(
      "BG_ERR_EVENT_VERSION_UNSUPPORTED",
      {
        type: `${TYPE_PREFIX}${name}`,
        version: `${version?.major}.${version?.minor}`,
        supported: `${CONTRACT_VERSION_STRING.split(".")[0]}.x`,
      },
      [],
      seen,
    );
  }
  const result = eventSchema(name, reading).safeParse(json, { error: readableErrors });
  if (!result.success) {
    const issues = eventIssues(name, result.error, json).slice(0, 20);
    const code = codeForIssues(issues);
    const params: Record<string, string> =
      code === "BG_ERR_VERSION_UNSAFE"
        ? {
            version: String((seen.data as { version?: unknown } | undefined)?.version).slice(
              0,
              140,
            ),
            reason: issues.find((i) => i.message.startsWith("unsafe version"))?.message ?? "",
          }
        : { type: `${TYPE_PREFIX}${name}`, problems: formatIssues(issues) };
    return rejection(code, params, issues, seen);
  }
  const event = result.data;
  if (opts.subject !== undefined) {
    let matches = false;
    try {
      const parsed = parseSubject(opts.subject);
      matches = parsed.service === event.subject && parsed.name === name;
    } catch {
      matches = false;
    }
    if (!matches) {
      return rejection(
        "BG_ERR_EVENT_SUBJECT_MISMATCH",
        { type: event.type, service: event.subject, subject: opts.subject.slice(0, 200) },
        [],
        seen,
      );
    }
  }
  return { ok: true, event: knownAttributes(event) as BgEvent<N> };
}

export function encodeEvent(event: BgEvent): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(event));
}
