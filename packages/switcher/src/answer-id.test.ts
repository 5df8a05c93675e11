import { EVENT_ID_PATTERN } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { answerId } from "./answer-id.ts";

describe("answerId", () => {
  it("derives a readable, deterministic id from the request id", () => {
    expect(answerId("ci-412-1", "done")).toBe("ci-412-1.done");
    expect(answerId("ci-412-1", "failed")).toBe("ci-412-1.failed");
  });

  it("stays a valid event id for the longest request ids", () => {
    const long = `a${"b".repeat(127)}`;
    const id = answerId(long, "failed");
    expect(id).toMatch(EVENT_ID_PATTERN);
    expect(id).toBe(answerId(long, "failed"));
    expect(id).not.toBe(answerId(`${long.slice(0, -1)}c`, "failed"));
  });
});
