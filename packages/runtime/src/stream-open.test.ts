import { describe, expect, it } from "vitest";
import { settleWithin } from "./stream-open.ts";

describe("settleWithin (one attempt to open the read)", () => {
  const never = new Promise<string>(() => undefined);

  it("is the answer when it comes in time", async () => {
    expect(await settleWithin(Promise.resolve("open"), 1_000, undefined)).toBe("open");
  });

  it("is undefined once the time passed, or at once when the wait is aborted", async () => {
    expect(await settleWithin(never, 20, undefined)).toBeUndefined();
    const abort = new AbortController();
    const waiting = settleWithin(never, 60_000, abort.signal);
    abort.abort();
    expect(await waiting).toBeUndefined();
  });

  it("passes a failure on (the caller decides whether to try again)", async () => {
    const failed = Object.assign(new Error("TIMEOUT"), { code: "TIMEOUT" });
    await expect(settleWithin(Promise.reject(failed), 1_000, undefined)).rejects.toBe(failed);
  });
});
