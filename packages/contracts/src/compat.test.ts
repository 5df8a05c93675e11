import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CONTRACT_VERSION,
  dataschemaUri,
  greaterThanPattern,
  readingOf,
  versionOfDataschema,
} from "./compat.ts";
import { createEvent, parseEvent } from "./envelope.ts";
import { EVENT_NAMES, EVENTS, type EventName } from "./events/index.ts";
import { exampleEvent } from "./fixtures.ts";

/**
 * Rolling upgrades: the mixed-version pair. "Next" is the producer one minor version ahead of
 * this code; "this" parser is the one under test.
 */
const NEXT = { major: CONTRACT_VERSION.major, minor: CONTRACT_VERSION.minor + 1 };
const NEXT_MAJOR = { major: CONTRACT_VERSION.major + 1, minor: 0 };

const envelope = (name: EventName, data: unknown, extra: Record<string, unknown> = {}) =>
  exampleEvent(name, { data, ...extra });

/** What a newer version would add: a field in `data` and one in every nested object. */
function withAddedFields(value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) return value.map((v) => withAddedFields(v, depth + 1));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = { [`addedInNext${depth}`]: { any: ["thing", 1] } };
  for (const [k, v] of Object.entries(value))
    out[k] = k === "phases" ? v : withAddedFields(v, depth + 1);
  return out;
}

describe("versions: an older agent and a newer producer", () => {
  it.each(EVENT_NAMES)(
    "%s from the next minor version, with added fields at every depth, is read",
    (name) => {
      const example = EVENTS[name].example;
      const next = envelope(name, withAddedFields(example), {
        dataschema: dataschemaUri(name, NEXT),
      });
      const result = parseEvent(JSON.stringify(next), { subject: `bluegreen.emily.${name}` });
      expect(result.ok ? "ok" : result.error.message).toBe("ok");
      // What this version knows is kept, exactly as the same event of this version gives it.
      const current = parseEvent(JSON.stringify(envelope(name, example)));
      if (result.ok && current.ok) expect(result.event.data).toEqual(current.event.data);
    },
  );

  it("reads an error code the next version added, and still checks everything it knows", () => {
    const data = {
      stage: "deploy",
      error: { code: "BG_ERR_ADDED_IN_NEXT", message: "new failure", retryable: false },
      color: "green",
    };
    const next = { dataschema: dataschemaUri("deploy.failed", NEXT) };
    const ok = parseEvent(JSON.stringify(envelope("deploy.failed", data, next)), {
      expect: ["deploy.failed"],
    });
    expect(ok.ok && ok.event.data.error.code).toBe("BG_ERR_ADDED_IN_NEXT");
    const purple = parseEvent(
      JSON.stringify(envelope("deploy.failed", { ...data, color: "purple" }, next)),
    );
    expect(purple.ok || purple.issues.map((i) => i.path)).toEqual(["data.color"]);
    const sameVersion = parseEvent(JSON.stringify(envelope("deploy.failed", data)));
    expect(sameVersion.ok || sameVersion.issues.map((i) => i.path)).toEqual(["data.error.code"]);
  });

  it("refuses a hand-published typo: no dataschema, or this version's, is read strictly", () => {
    const typo = { version: "v1.1", manualPromotoin: true };
    for (const extra of [{}, { dataschema: dataschemaUri("deploy.requested") }]) {
      const result = parseEvent(JSON.stringify(envelope("deploy.requested", typo, extra)));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe("BG_ERR_EVENT_UNKNOWN_FIELD");
        expect(result.issues).toEqual([
          {
            path: "data.manualPromotoin",
            message:
              "`manualPromotoin` is not a field of `data` in a bluegreen.deploy.requested event; did you mean `manualPromotion`?",
            unknownKey: "manualPromotoin",
            suggestion: "manualPromotion",
          },
        ]);
        expect(result.id).toBe("example-deploy.requested");
      }
    }
  });

  it("reads an event of an older minor version strictly (this version knows all its fields)", () => {
    const older = { major: CONTRACT_VERSION.major, minor: 0 };
    const result = parseEvent(
      JSON.stringify(
        envelope(
          "deploy.requested",
          { version: "v1", extra: 1 },
          { dataschema: dataschemaUri("deploy.requested", older) },
        ),
      ),
    );
    expect(result.ok || result.error.code).toBe("BG_ERR_EVENT_UNKNOWN_FIELD");
  });

  it("refuses another major version with its own code", () => {
    const result = parseEvent(
      JSON.stringify(
        envelope(
          "deploy.requested",
          { version: "v1" },
          { dataschema: dataschemaUri("deploy.requested", NEXT_MAJOR) },
        ),
      ),
    );
    expect(result.ok || result.error.code).toBe("BG_ERR_EVENT_VERSION_UNSUPPORTED");
    expect(result.ok || result.error.message).toBe(
      `event bluegreen.deploy.requested follows contract version ${NEXT_MAJOR.major}.0; this agent understands ${CONTRACT_VERSION.major}.x`,
    );
  });

  it("refuses a dataschema that is not the event's own bluegreen schema", () => {
    for (const dataschema of [
      "https://example.com/schema.json",
      dataschemaUri("deploy.started"),
      "https://bluegreen.dev/schemas/1.01/events/deploy.requested.json",
    ]) {
      const result = parseEvent(
        JSON.stringify(envelope("deploy.requested", { version: "v1" }, { dataschema })),
      );
      expect(result.ok || result.issues.map((i) => i.path), dataschema).toEqual(["dataschema"]);
    }
  });

  it("stamps every event it builds with this version's dataschema", () => {
    const event = createEvent("deploy.requested", {
      service: "emily",
      source: "test",
      data: { version: "v1" },
    });
    expect(event.dataschema).toBe(dataschemaUri("deploy.requested"));
    expect(versionOfDataschema(event.dataschema, "deploy.requested")).toEqual(CONTRACT_VERSION);
  });

  it("refuses at the producer a field this version does not have", () => {
    expect(() =>
      createEvent("deploy.requested", {
        service: "emily",
        source: "test",
        data: { version: "v1", manualPromotoin: true } as never,
      }),
    ).toThrow(expect.objectContaining({ code: "BG_ERR_EVENT_UNKNOWN_FIELD" }));
  });

  it("decides the reading from the version alone", () => {
    expect(readingOf(undefined)).toBe("strict");
    expect(readingOf(CONTRACT_VERSION)).toBe("strict");
    expect(readingOf(NEXT)).toBe("lenient");
    expect(readingOf(NEXT_MAJOR)).toBe("refused");
  });

  it("matches exactly the numbers greater than n", () => {
    fc.assert(
      fc.property(fc.nat(2_000), fc.nat(2_000), (n, m) => {
        expect(new RegExp(`^${greaterThanPattern(n)}$`).test(String(m))).toBe(m > n);
      }),
    );
  });
});
