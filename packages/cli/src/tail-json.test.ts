import { createEvent, parseEvent } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { jsonLine } from "./commands/tail.ts";

/** `tail --json`: one valid JSON document per line, whatever the stream holds. */
const item = (raw: string, seq = 7) => {
  const parsed = parseEvent(raw);
  return {
    seq,
    subject: "bluegreen.emily.deploy.requested",
    raw,
    event: parsed.ok ? parsed.event : undefined,
    ...(parsed.ok ? {} : { error: { code: parsed.error.code, message: parsed.error.message } }),
  };
};
const event = createEvent("deploy.requested", {
  service: "emily",
  source: "test",
  data: { version: "v1.1" },
});

describe("tail --json lines", () => {
  it.each([
    ["not JSON at all", "{not json\nat all"],
    ["JSON that is not an event", '{"hello":"world"}'],
    ["an event with an unknown field", JSON.stringify({ ...event, data: { versoin: "v1" } })],
    ["an empty message", ""],
  ])("%s is wrapped, with why", (_name, raw) => {
    const line = jsonLine(item(raw, 42));
    expect(line).not.toContain("\n");
    const doc = JSON.parse(line);
    expect(doc).toMatchObject({
      invalid: true,
      seq: 42,
      subject: "bluegreen.emily.deploy.requested",
      raw,
    });
    expect(doc.error.code).toMatch(/^BG_ERR_EVENT_/);
    expect(typeof doc.error.message).toBe("string");
  });

  it("a valid event is printed as stored, on one line even when stored pretty-printed", () => {
    const raw = JSON.stringify(event, null, 2);
    const line = jsonLine(item(raw));
    expect(line).not.toContain("\n");
    expect(JSON.parse(line)).toEqual(JSON.parse(raw));
  });
});
