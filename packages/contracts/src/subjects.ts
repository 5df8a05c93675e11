import { BgError } from "./errors.ts";
import { isServiceName } from "./names.ts";

/**
 * The only place subjects are made and read. Every audit event travels on
 * `bluegreen.<service>.<family>.<event>`; the `BLUEGREEN` stream captures `bluegreen.>`.
 */
export const SUBJECT_PREFIX = "bluegreen";
export const STREAM_NAME = "BLUEGREEN";
export const STREAM_SUBJECTS = [`${SUBJECT_PREFIX}.>`] as const;

/**
 * The service token used when a rejected message's own subject named no valid service
 * (`bluegreen._.agent.rejected`). No service can be called `_`.
 */
export const NO_SERVICE = "_";

const TOKEN = /^[a-z][a-z0-9_]{0,31}$/;

export interface ParsedSubject {
  readonly service: string;
  readonly family: string;
  readonly event: string;
  /** `<family>.<event>`, the short event name used across the code (`deploy.requested`). */
  readonly name: string;
}

function invalid(subject: string, reason: string): BgError {
  return new BgError("BG_ERR_SUBJECT_INVALID", { subject: subject.slice(0, 200), reason });
}

/** `bluegreen.emily.deploy.requested` from (`emily`, `deploy.requested`). */
export function eventSubject(service: string, name: string): string {
  if (!isServiceName(service) && service !== NO_SERVICE) {
    throw new BgError("BG_ERR_SERVICE_NAME_INVALID", { service });
  }
  const [family, event, ...rest] = name.split(".");
  if (family === undefined || event === undefined || rest.length > 0)
    throw invalid(`${SUBJECT_PREFIX}.${service}.${name}`, "event name must be <family>.<event>");
  if (!TOKEN.test(family) || !TOKEN.test(event))
    throw invalid(
      `${SUBJECT_PREFIX}.${service}.${name}`,
      "family and event must be lowercase tokens",
    );
  return `${SUBJECT_PREFIX}.${service}.${family}.${event}`;
}

/** Reads a subject back into its parts, or throws `BG_ERR_SUBJECT_INVALID`. */
export function parseSubject(subject: string): ParsedSubject {
  const parts = subject.split(".");
  if (parts.length !== 4) throw invalid(subject, "expected 4 tokens");
  const [prefix, service, family, event] = parts as [string, string, string, string];
  if (prefix !== SUBJECT_PREFIX) throw invalid(subject, `must start with '${SUBJECT_PREFIX}.'`);
  if (!isServiceName(service) && service !== NO_SERVICE)
    throw invalid(subject, `'${service}' is not a valid service name`);
  if (!TOKEN.test(family) || !TOKEN.test(event))
    throw invalid(subject, "family and event must be lowercase tokens");
  return { service, family, event, name: `${family}.${event}` };
}

/** Like parseSubject, but answers undefined instead of throwing. */
export function tryParseSubject(subject: string): ParsedSubject | undefined {
  try {
    return parseSubject(subject);
  } catch {
    return undefined;
  }
}

/**
 * A subscription filter: `bluegreen.*.deploy.started`, `bluegreen.emily.>`, `bluegreen.>`.
 * `service` omitted means every service; `name` omitted means every event.
 */
export function filterSubject(opts: { service?: string; name?: string } = {}): string {
  const service = opts.service ?? "*";
  if (service !== "*" && !isServiceName(service))
    throw new BgError("BG_ERR_SERVICE_NAME_INVALID", { service });
  if (opts.name === undefined) return `${SUBJECT_PREFIX}.${service}.>`;
  const [family, event] = opts.name.split(".");
  if (family === undefined || !TOKEN.test(family) || (event !== "*" && !TOKEN.test(event ?? "")))
    throw invalid(`${SUBJECT_PREFIX}.${service}.${opts.name}`, "bad event filter");
  return `${SUBJECT_PREFIX}.${service}.${family}.${event}`;
}

/** The token of a subject's service position, valid or not (for rejection subjects). */
export function serviceTokenOf(subject: string): string {
  const token = subject.split(".")[1];
  return token !== undefined && isServiceName(token) ? token : NO_SERVICE;
}

/**
 * nginx's request windows for the monitor's nginx source: core NATS, outside the stream's
 * `bluegreen.>` (many small messages a second, evidence rather than audit material).
 */
export const STATS_PREFIX = "bgstats";

/** `bgstats.emily`: where the switcher's request-log reader publishes a service's windows. */
export function statsSubject(service: string): string {
  if (!isServiceName(service)) throw new BgError("BG_ERR_SERVICE_NAME_INVALID", { service });
  return `${STATS_PREFIX}.${service}`;
}
