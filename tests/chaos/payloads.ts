// Generated and mutated payloads for the bad-input suites: arbitrary bytes, arbitrary JSON, and
// valid events with one field broken (wrong type, missing, unknown `type`, wrong
// `specversion`, oversized, injection-shaped versions, unknown services, duplicated ids).
// Everything is seeded, so a run is repeatable; the contract's own parser is the oracle that
// says which payloads an agent must refuse.

import {
  createEvent,
  type ErrorCode,
  EVENTS,
  type EventName,
  eventSubject,
  MAX_EVENT_BYTES,
  parseEvent,
} from "@bluegreen/contracts";
import fc from "fast-check";

/** Versions and refs crafted for shell and path injection, and other refused shapes. */
export const INJECTION_VERSIONS: readonly string[] = [
  "v1;rm -rf /",
  "$(id)",
  "`id`",
  "../../etc",
  "../../../etc/passwd",
  "-rf",
  "--upload-pack=touch /tmp/pwned",
  "v1 && touch /tmp/pwned",
  "v1|id",
  "v1\nid",
  "v1$IFS",
  "${HOME}",
  "v1>/tmp/pwned",
  "/etc/passwd",
  "v1\u0000",
  "'; id; '",
  '"$(id)"',
  "v1 v2",
  "~root",
  "*",
  "v1/../../x",
  "..",
  "v1//x",
  "v1/",
  "x".repeat(200),
  "%2e%2e%2f$(id)",
  "",
];

/** A syntactically valid service that no definition names. */
export const UNKNOWN_SERVICE = "ghost-svc";

export interface FuzzPayload {
  readonly subject: string;
  readonly bytes: Uint8Array;
  /** The code the contract's parser gives it (undefined: the payload is a valid event). */
  readonly code: ErrorCode | undefined;
}

const encoder = new TextEncoder();

/** A valid event of `name` for `service`, built from the contract's own example. */
export function seedEvent(name: EventName, service: string, n: number): Record<string, unknown> {
  const spec = EVENTS[name];
  const event = createEvent(name, {
    service,
    source: "bluegreen/test/chaos",
    data: spec.example as never,
    deploymentId: spec.deploymentId === "none" ? undefined : `d-fuzz-${n}`,
    id: `fuzz-seed-${name}-${n}`,
  });
  return JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
}

type Mutation = (event: Record<string, unknown>) => Record<string, unknown> | Uint8Array;

const badValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(...INJECTION_VERSIONS),
  fc.string({ minLength: 200, maxLength: 200 }),
  fc.constantFrom(null, true, -1, 1.5, 2 ** 53, "", [], {}),
);

/** Paths of the fields a mutation may touch: the envelope's and the data's. */
function fieldPaths(event: Record<string, unknown>): string[][] {
  const top = Object.keys(event).map((k) => [k]);
  const data = event.data as Record<string, unknown>;
  const inner = Object.keys(data).map((k) => ["data", k]);
  return [...top, ...inner];
}

function setPath(
  event: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
  remove = false,
): Record<string, unknown> {
  const copy = structuredClone(event);
  let target = copy as Record<string, unknown>;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = path[path.length - 1] as string;
  if (remove) delete target[last];
  else target[last] = value;
  return copy;
}

function mutationArb(name: EventName, seen: string[]): fc.Arbitrary<Mutation> {
  const other = Object.keys(EVENTS).filter((n) => n !== name);
  return fc.oneof(
    // One field replaced by a value of the wrong kind (or an injection string).
    fc.tuple(fc.nat(), badValue).map(
      ([i, v]): Mutation =>
        (e) =>
          setPath(e, pick(fieldPaths(e), i), v),
    ),
    // One field missing.
    fc.nat().map(
      (i): Mutation =>
        (e) =>
          setPath(e, pick(fieldPaths(e), i), undefined, true),
    ),
    // An unknown type, or another event's type on this subject.
    fc
      .oneof(
        fc.string({ maxLength: 40 }).map((s) => `bluegreen.${s}`),
        fc.constantFrom(...other).map((n) => `bluegreen.${n}`),
        fc.constantFrom("com.example.thing", "", "bluegreen."),
      )
      .map(
        (t): Mutation =>
          (e) => ({ ...e, type: t }),
      ),
    // A wrong CloudEvents specversion.
    fc.constantFrom<unknown>("0.3", "1", "1.0.0", "2.0", 1, 1.0, null, "").map(
      (v): Mutation =>
        (e) => ({ ...e, specversion: v }),
    ),
    // The version (or any string field) crafted for injection.
    fc.constantFrom(...INJECTION_VERSIONS).map(
      (v): Mutation =>
        (e) =>
          setPath(e, ["data", "version"], v),
    ),
    // An unknown service in the envelope (the subject names the real one).
    fc.constant<Mutation>((e) => ({ ...e, subject: UNKNOWN_SERVICE })),
    // Oversized: over the 64 KiB message limit (rare: each costs 64 KiB of stream), or a
    // 300+ character field.
    fc.nat(15).map(
      (i): Mutation =>
        (e) =>
          i === 0
            ? { ...e, padding: "x".repeat(MAX_EVENT_BYTES) }
            : setPath(e, ["data", "by"], "y".repeat(300)),
    ),
    fc.string({ minLength: 300, maxLength: 400 }).map(
      (s): Mutation =>
        (e) => ({ ...e, source: s }),
    ),
    // A duplicated id (of an earlier payload) on an otherwise broken event.
    fc.tuple(fc.nat(), fc.constantFrom("specversion", "time", "type")).map(
      ([i, k]): Mutation =>
        (e) => ({ ...e, id: seen[i % Math.max(1, seen.length)] ?? e.id, [k]: 7 }),
    ),
    // Not an object at all.
    fc.constant<Mutation>((e) => encoder.encode(`[${JSON.stringify(e)}]`)),
    // Truncated JSON.
    fc.nat().map(
      (i): Mutation =>
        (e) => {
          const text = JSON.stringify(e);
          return encoder.encode(text.slice(0, i % text.length));
        },
    ),
  );
}

function pick<T>(items: readonly T[], i: number): T {
  return items[i % items.length] as T;
}

/** Arbitrary bytes, arbitrary JSON, or a mutated valid event, in that proportion 1:1:4. */
function payloadArb(name: EventName, service: string, seen: string[]) {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => ({ bytes: b })) },
    {
      weight: 1,
      arbitrary: fc
        .jsonValue({ maxDepth: 3 })
        .map((v) => ({ bytes: encoder.encode(JSON.stringify(v) ?? "null") })),
    },
    {
      weight: 4,
      arbitrary: fc.tuple(fc.nat(1000), mutationArb(name, seen)).map(([n, mutate]) => {
        const out = mutate(seedEvent(name, service, n));
        return {
          bytes: out instanceof Uint8Array ? out : encoder.encode(JSON.stringify(out)),
        };
      }),
    },
  );
}

/**
 * `count` payloads for `name` on `service`'s subject, seeded. Valid ones (a mutation that
 * happened to produce a correct event) are dropped: they are not bad input.
 */
export function fuzzPayloads(
  name: EventName,
  service: string,
  count: number,
  seed: number,
): { payloads: FuzzPayload[]; droppedValid: number } {
  const subject = eventSubject(service, name);
  const seen = [`fuzz-seed-${name}-1`, `fuzz-seed-${name}-2`];
  const payloads: FuzzPayload[] = [];
  let droppedValid = 0;
  let round = 0;
  while (payloads.length < count) {
    const batch = fc.sample(payloadArb(name, service, seen), {
      numRuns: count - payloads.length,
      seed: seed + round++,
    });
    for (const { bytes } of batch) {
      const parsed = parseEvent(bytes, { subject });
      if (parsed.ok) {
        droppedValid++;
        continue;
      }
      if (parsed.id !== undefined) seen.push(parsed.id);
      payloads.push({ subject, bytes, code: parsed.error.code });
    }
  }
  return { payloads, droppedValid };
}
