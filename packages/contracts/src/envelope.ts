import { z } from "zod";
import { BgError, type ErrorCode } from "./errors.ts";
import { EVENTS, type EventName, isEventName } from "./events/index.ts";
import { formatIssues, type Issue, readableErrors, toIssues } from "./issues.ts";
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
  deploymentid?: string;
  data: EventData<N>;
}
/** Any event, narrowed by `type`. */
export type AnyBgEvent = { [N in EventName]: BgEvent<N> }[EventName];

const schemaCache = new Map<EventName, z.ZodType>();

/** The full CloudEvent schema of one event type (envelope + data). */
export function eventSchema<N extends EventName>(name: N): z.ZodType<BgEvent<N>> {
  let schema = schemaCache.get(name);
  if (!schema) {
    const spec = EVENTS[name];
    const deploymentid =
      spec.deploymentId === "required"
        ? deploymentIdSchema
        : spec.deploymentId === "optional"
          ? deploymentIdSchema.optional()
          : z.undefined({ message: "this event carries no deploymentid" }).optional();
    schema = z.object({
      ...baseEnvelope,
      type: z.literal(`${TYPE_PREFIX}${name}`),
      deploymentid,
      data: spec.data,
    });
    schemaCache.set(name, schema);
  }
  return schema as z.ZodType<BgEvent<N>>;
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
    ...(opts.deploymentId === undefined ? {} : { deploymentid: opts.deploymentId }),
    data: opts.data,
  };
  const result = eventSchema(name).safeParse(raw, { error: readableErrors });
  if (!result.success) {
    throw new BgError(
      "BG_ERR_EVENT_INVALID",
      { type: raw.type, problems: formatIssues(toIssues(result.error)) },
      { details: toIssues(result.error) },
    );
  }
  return result.data;
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

/** Issues that name an unsafe version get the version's own code, so CI sees why. */
function codeForIssues(issues: Issue[]): ErrorCode {
  return issues.some((i) => i.message.startsWith("unsafe version"))
    ? "BG_ERR_VERSION_UNSAFE"
    : "BG_ERR_EVENT_INVALID";
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
  if (seen.specversion !== "1.0") {
    return rejection(
      "BG_ERR_EVENT_SPECVERSION",
      { specversion: String(seen.specversion).slice(0, 32) },
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
  const result = eventSchema(name).safeParse(json, { error: readableErrors });
  if (!result.success) {
    const issues = toIssues(result.error).slice(0, 20);
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
  return { ok: true, event: event as BgEvent<N> };
}

export function encodeEvent(event: BgEvent): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(event));
}
