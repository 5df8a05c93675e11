import { describe, expect, it } from "vitest";
import { startedExpiresAt } from "./expiry.ts";

const definition = { deploy: { timeout: 8_000 }, readiness: { timeout: 3_000 } };

describe("startedExpiresAt", () => {
  it("is the coordinator's deploying deadline: deploy + readiness timeouts + 5 s after the event", () => {
    const at = startedExpiresAt({ time: "2026-11-26T10:00:00.000Z" }, definition);
    expect(new Date(at).toISOString()).toBe("2026-11-26T10:00:16.000Z");
  });

  it("honours the offset of the event's time", () => {
    const at = startedExpiresAt({ time: "2026-11-26T11:00:00.000+01:00" }, definition);
    expect(new Date(at).toISOString()).toBe("2026-11-26T10:00:16.000Z");
  });

  it("is the deadline the event carries when it carries one, whatever the definition says", () => {
    const event = {
      time: "2026-11-26T10:00:00.000Z",
      data: { deadline: "2026-11-26T10:05:00.000Z" },
    };
    expect(new Date(startedExpiresAt(event, definition)).toISOString()).toBe(
      "2026-11-26T10:05:00.000Z",
    );
  });
});
