import { describe, expect, it } from "vitest";
import { isTransientNatsError, retryTransient } from "./transient.ts";

const natsError = (code: string) => Object.assign(new Error(code), { code });

describe("isTransientNatsError", () => {
  it("is a timeout, no responders (a JetStream leader election), a lost connection", () => {
    for (const code of ["TIMEOUT", "503", "408", "DISCONNECT", "CONNECTION_REFUSED"])
      expect(isTransientNatsError(natsError(code)), code).toBe(true);
  });

  it("is not what another try cannot fix", () => {
    for (const code of ["PERMISSIONS_VIOLATION", "AUTHORIZATION_VIOLATION", "BAD API", "404"])
      expect(isTransientNatsError(natsError(code)), code).toBe(false);
    expect(isTransientNatsError(new Error("wrong last sequence"))).toBe(false);
    expect(isTransientNatsError(undefined)).toBe(false);
  });
});

describe("retryTransient", () => {
  /** A clock that only moves when the code sleeps. */
  function fakeTime() {
    let t = 0;
    const slept: number[] = [];
    return {
      now: () => t,
      sleep: async (ms: number) => {
        slept.push(ms);
        t += ms;
      },
      slept,
    };
  }

  it("tries again after transient errors, backing off, and returns the answer", async () => {
    const time = fakeTime();
    const attempts: number[] = [];
    const result = await retryTransient(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 4) throw natsError(attempt === 2 ? "TIMEOUT" : "503");
        return "stored";
      },
      { forMs: 10_000, ...time },
    );
    expect(result).toBe("stored");
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(time.slept).toEqual([250, 500, 1_000]);
  });

  it("throws any other error at once", async () => {
    const time = fakeTime();
    const refused = natsError("PERMISSIONS_VIOLATION");
    await expect(
      retryTransient(
        async () => {
          throw refused;
        },
        { forMs: 10_000, ...time },
      ),
    ).rejects.toBe(refused);
    expect(time.slept).toEqual([]);
  });

  it("gives up with the last error once the time is spent", async () => {
    const time = fakeTime();
    let calls = 0;
    await expect(
      retryTransient(
        async () => {
          calls++;
          throw natsError("503");
        },
        { forMs: 5_000, ...time },
      ),
    ).rejects.toMatchObject({ code: "503" });
    // 250 + 500 + 1000 + 2000 = 3750 ms; one more 2 s pause would pass 5 s.
    expect(time.slept).toEqual([250, 500, 1_000, 2_000]);
    expect(calls).toBe(5);
  });
});
