import { BgError, eventSchema, parseEvent } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import {
  EXCERPT_LIMIT,
  excerptOf,
  isRejectionSubject,
  rejectionData,
  rejectionService,
} from "./rejection.ts";

describe("rejectionData", () => {
  it("carries the parse error's code, issues and what could be read of the message", () => {
    const payload = JSON.stringify({
      specversion: "1.0",
      id: "ci-1",
      source: "ci",
      type: "bluegreen.deploy.requested",
      time: new Date().toISOString(),
      subject: "emily",
      data: { version: "v1;rm -rf /" },
    });
    const parsed = parseEvent(payload, { subject: "bluegreen.emily.deploy.requested" });
    if (parsed.ok) throw new Error("expected a rejection");
    const data = rejectionData({
      error: parsed.error,
      issues: parsed.issues,
      rejectedBy: "coordinator/c1",
      subject: "bluegreen.emily.deploy.requested",
      payload,
      originalId: parsed.id,
      originalType: parsed.type,
    });
    expect(data.code).toBe("BG_ERR_VERSION_UNSAFE");
    expect(data.originalId).toBe("ci-1");
    expect(data.issues.some((i) => i.path === "data.version")).toBe(true);
    expect(data.excerpt.startsWith('{"specversion":"1.0"')).toBe(true);
  });

  it("always fits the agent.rejected data schema, however large the input", () => {
    const huge = "x".repeat(10_000);
    const data = rejectionData({
      error: new BgError("BG_ERR_EVENT_INVALID", { type: huge, problems: huge }),
      issues: Array.from({ length: 50 }, () => ({ path: huge, message: huge })),
      rejectedBy: huge,
      subject: huge,
      payload: new TextEncoder().encode(huge),
      originalId: huge,
      originalType: huge,
    });
    const schema = eventSchema("agent.rejected");
    const event = {
      specversion: "1.0",
      id: "r-1",
      source: "bluegreen/coordinator/c1",
      type: "bluegreen.agent.rejected",
      time: new Date().toISOString(),
      subject: "_",
      data,
    };
    expect(schema.safeParse(event).success).toBe(true);
    expect(data.excerpt.length).toBeLessThanOrEqual(EXCERPT_LIMIT);
    expect(data.issues).toHaveLength(20);
  });
});

describe("excerptOf", () => {
  it("keeps binary junk printable", () => {
    const excerpt = excerptOf(new Uint8Array([0x00, 0x41, 0xff, 0x0a, 0x1b]));
    expect(excerpt).toBe("\ufffdA\ufffd\n\ufffd");
  });
});

describe("rejection routing", () => {
  it("files a rejection under the subject's service, or `_`", () => {
    expect(rejectionService("bluegreen.emily.deploy.requested")).toBe("emily");
    expect(rejectionService("bluegreen.Bad!.deploy.requested")).toBe("_");
  });

  it("never answers a rejection with a rejection", () => {
    expect(isRejectionSubject("bluegreen.emily.agent.rejected")).toBe(true);
    expect(isRejectionSubject("bluegreen.emily.deploy.requested")).toBe(false);
  });
});
