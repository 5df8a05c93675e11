import { describe, expect, it } from "vitest";
import { sleep, sleepUntil } from "./sleep.ts";

describe("sleep", () => {
  it("waits about the time asked", async () => {
    const started = performance.now();
    await sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it("wakes at once when the signal aborts, and at once when it already had", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const waiting = sleep(10_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await waiting;
    await sleep(10_000, controller.signal);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("sleepUntil counts from the clock it is given", async () => {
    const started = performance.now();
    await sleepUntil(1_000_020, undefined, () => 1_000_000);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(15);
    expect(took).toBeLessThan(1_000);
  });
});
