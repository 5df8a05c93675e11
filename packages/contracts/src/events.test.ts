import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createEvent, eventSchema, MAX_EVENT_BYTES, parseEvent } from "./envelope.ts";
import { EVENT_NAMES, EVENTS, type EventName } from "./events/index.ts";
import { exampleEvent, objectPaths } from "./fixtures.ts";

type Example = Record<string, unknown> & { id: string; type: string; data: unknown };
const documentedExample = (name: EventName) => exampleEvent(name) as Example;
const unknownKey = fc.stringMatching(/^[a-z][A-Za-z0-9_]{0,15}$/).map((k) => `x${k}`);

describe.each(EVENT_NAMES)("event %s", (name) => {
  const spec = EVENTS[name];

  it("accepts its documented example", () => {
    const result = parseEvent(JSON.stringify(documentedExample(name)), {
      subject: `bluegreen.emily.${name}`,
    });
    expect(result.ok ? "ok" : result.error.message).toBe("ok");
  });

  const allOptional = spec.data.safeParse({}).success;
  it.skipIf(allOptional)("rejects a missing data field", () => {
    const example = documentedExample(name);
    const data = { ...(example.data as Record<string, unknown>) };
    const required = Object.keys(data).find((key) => {
      const probe = { ...data };
      delete probe[key];
      return !spec.data.safeParse(probe).success;
    });
    expect(required, "every event has at least one required data field").toBeDefined();
    delete data[required as string];
    const result = parseEvent(JSON.stringify({ ...example, data }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("BG_ERR_EVENT_INVALID");
      expect(result.issues.map((i) => i.path)).toContain(`data.${required}`);
    }
  });

  it("rejects a wrong type in data", () => {
    const example = documentedExample(name);
    const data = example.data as Record<string, unknown>;
    const key = Object.keys(data)[0] as string;
    const wrong = typeof data[key] === "number" ? "not-a-number" : 12345;
    const result = parseEvent(JSON.stringify({ ...example, data: { ...data, [key]: wrong } }));
    expect(result.ok).toBe(false);
  });

  it("rejects a missing envelope field", () => {
    for (const field of ["id", "source", "type", "time", "subject", "data"]) {
      const example: Record<string, unknown> = documentedExample(name);
      delete example[field];
      expect(parseEvent(JSON.stringify(example)).ok, field).toBe(false);
    }
  });

  if (spec.deploymentId === "required") {
    it("requires a deploymentid", () => {
      const { deploymentid: _, ...rest } = documentedExample(name) as Record<string, unknown>;
      expect(parseEvent(JSON.stringify(rest)).ok).toBe(false);
    });
  }

  it("refuses an unknown key at any depth of data, named at its path", () => {
    const example = documentedExample(name);
    const paths = objectPaths(example.data, new Set(["phases"]), ["data"]);
    fc.assert(
      fc.property(
        fc.constantFrom(...paths),
        unknownKey,
        fc.jsonValue({ maxDepth: 2 }),
        (path, key, value) => {
          const event = structuredClone(example) as Record<string, unknown>;
          let node = event as Record<string | number, unknown>;
          for (const step of path) node = node[step] as Record<string | number, unknown>;
          node[key] = value;
          const result = parseEvent(JSON.stringify(event));
          expect(result.ok, `${[...path, key].join(".")} was accepted`).toBe(false);
          if (!result.ok)
            expect(result.issues.map((i) => i.path)).toContain([...path, key].join("."));
        },
      ),
      { numRuns: 50 },
    );
  });

  it("round-trips through createEvent", () => {
    const example = documentedExample(name);
    const event = createEvent(name, {
      service: "emily",
      source: "bluegreen/test/1",
      data: spec.example as never,
      deploymentId: spec.deploymentId === "none" ? undefined : "d-1",
    });
    expect(eventSchema(name).safeParse(JSON.parse(JSON.stringify(event))).success).toBe(true);
    expect(event.type).toBe(example.type);
  });
});

describe("parseEvent", () => {
  const good = documentedExample("deploy.requested");

  it("refuses something that is not JSON", () => {
    const result = parseEvent("{not json");
    expect(result.ok || result.error.code).toBe("BG_ERR_EVENT_MALFORMED_JSON");
  });

  it("refuses a JSON value that is not an object", () => {
    for (const payload of ["[]", "42", "null", '"x"']) {
      const result = parseEvent(payload);
      expect(result.ok || result.error.code).toBe("BG_ERR_EVENT_INVALID");
    }
  });

  it("tells an object without specversion that it is missing", () => {
    const { specversion: _, ...rest } = good;
    const result = parseEvent(JSON.stringify(rest));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("BG_ERR_EVENT_INVALID");
      expect(result.error.message).toContain("specversion: is required");
      expect(result.error.message).not.toContain("undefined");
      expect(result.issues.map((i) => i.path)).toEqual(["specversion"]);
    }
  });

  it("accepts CloudEvents extension attributes at the top level, and drops them", () => {
    const result = parseEvent(
      JSON.stringify({ ...good, traceparent: "00-abc-01", priority: 3, sampled: true }),
    );
    expect(result.ok).toBe(true);
    if (result.ok) expect(Object.keys(result.event)).not.toContain("traceparent");
  });

  it("refuses an attribute name CloudEvents does not allow, with the closest attribute", () => {
    const result = parseEvent(JSON.stringify({ ...good, deploymentId: "d-1" }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("BG_ERR_EVENT_UNKNOWN_FIELD");
      expect(result.issues[0]).toMatchObject({ path: "deploymentId", suggestion: "deploymentid" });
    }
  });

  it("refuses an extension attribute whose value is not a scalar", () => {
    const result = parseEvent(JSON.stringify({ ...good, trace: { id: 1 } }));
    expect(result.ok || result.issues.map((i) => i.path)).toEqual(["trace"]);
  });

  it("refuses a typo in data with its code, path and the closest field", () => {
    const result = parseEvent(
      JSON.stringify({ ...good, data: { version: "v1", manualPromotoin: true } }),
    );
    expect(result.ok || result.error.code).toBe("BG_ERR_EVENT_UNKNOWN_FIELD");
    expect(result.ok || result.error.message).toContain("did you mean `manualPromotion`?");
  });

  it("refuses another CloudEvents specversion", () => {
    const result = parseEvent(JSON.stringify({ ...good, specversion: "0.3" }));
    expect(result.ok || result.error.code).toBe("BG_ERR_EVENT_SPECVERSION");
  });

  it("refuses an unknown event type", () => {
    const result = parseEvent(JSON.stringify({ ...good, type: "bluegreen.deploy.exploded" }));
    expect(result.ok || result.error.code).toBe("BG_ERR_EVENT_UNKNOWN_TYPE");
  });

  it("refuses a type the consumer does not expect", () => {
    const result = parseEvent(JSON.stringify(good), { expect: ["switch.requested"] });
    expect(result.ok || result.error.code).toBe("BG_ERR_EVENT_UNEXPECTED_TYPE");
  });

  it.each(["v1;rm -rf /", "$(id)", "../x", "-rf", "x".repeat(200)])(
    "refuses the unsafe version %j with its own code",
    (version) => {
      const result = parseEvent(JSON.stringify({ ...good, data: { version } }));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe("BG_ERR_VERSION_UNSAFE");
        expect(result.id).toBe(good.id);
      }
    },
  );

  it("refuses a payload over the size limit before parsing it", () => {
    const huge = JSON.stringify({
      ...good,
      data: { version: "v1", reason: "x".repeat(MAX_EVENT_BYTES) },
    });
    const result = parseEvent(huge);
    expect(result.ok || result.error.code).toBe("BG_ERR_EVENT_TOO_LARGE");
  });

  it("refuses an event on a subject of another service or type", () => {
    expect(
      parseEvent(JSON.stringify(good), { subject: "bluegreen.other.deploy.requested" }).ok,
    ).toBe(false);
    const wrongType = parseEvent(JSON.stringify(good), {
      subject: "bluegreen.emily.deploy.started",
    });
    expect(wrongType.ok || wrongType.error.code).toBe("BG_ERR_EVENT_SUBJECT_MISMATCH");
  });

  it("refuses invalid bytes that are not UTF-8", () => {
    const result = parseEvent(new Uint8Array([0xff, 0xfe, 0x7b]));
    expect(result.ok || result.error.code).toBe("BG_ERR_EVENT_MALFORMED_JSON");
  });

  it("lets createEvent refuse bad data at the producer", () => {
    expect(() =>
      createEvent("switch.requested", {
        service: "emily",
        source: "test",
        data: { to: "purple" as "blue", reason: "promote", expectedRevision: 0 },
      }),
    ).toThrow(expect.objectContaining({ code: "BG_ERR_EVENT_INVALID" }));
  });
});
