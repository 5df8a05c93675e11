import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eventSubject, filterSubject, parseSubject, serviceTokenOf } from "./subjects.ts";

describe("subjects", () => {
  it("builds the subject of an event", () => {
    expect(eventSubject("emily", "deploy.requested")).toBe("bluegreen.emily.deploy.requested");
  });

  it("round-trips every valid service and event name", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,62}$/),
        fc.constantFrom("deploy.requested", "smoke.passed", "switch.done", "slo.breached"),
        (service, name) => {
          const parsed = parseSubject(eventSubject(service, name));
          expect(parsed.service).toBe(service);
          expect(parsed.name).toBe(name);
        },
      ),
    );
  });

  it.each(["Emily", "1emily", "emily_x", "em.ily", "", "a".repeat(64), "emily*", ">"])(
    "refuses the service name %j",
    (service) => {
      expect(() => eventSubject(service, "deploy.requested")).toThrow(
        expect.objectContaining({ code: "BG_ERR_SERVICE_NAME_INVALID" }),
      );
    },
  );

  it.each([
    "bluegreen.emily.deploy",
    "other.emily.deploy.requested",
    "bluegreen.Emily.deploy.requested",
    "bluegreen.emily.deploy.requested.extra",
    "bluegreen.emily.Deploy.requested",
  ])("refuses to parse %j", (subject) => {
    expect(() => parseSubject(subject)).toThrow(
      expect.objectContaining({ code: "BG_ERR_SUBJECT_INVALID" }),
    );
  });

  it("builds consumer filters", () => {
    expect(filterSubject({ name: "deploy.started" })).toBe("bluegreen.*.deploy.started");
    expect(filterSubject({ service: "emily" })).toBe("bluegreen.emily.>");
    expect(filterSubject({ service: "emily", name: "slo.*" })).toBe("bluegreen.emily.slo.*");
  });

  it("names the service token of a bad subject '_'", () => {
    expect(serviceTokenOf("bluegreen.emily.deploy.started")).toBe("emily");
    expect(serviceTokenOf("bluegreen.BAD.deploy.started")).toBe("_");
  });
});
