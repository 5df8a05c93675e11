import { describe, expect, it } from "vitest";
import { ReloadPacer } from "./reload-pacer.ts";

describe("ReloadPacer", () => {
  it("lets the first reload go at once and spaces the next ones by the gap", async () => {
    const pacer = new ReloadPacer(200);
    const started = performance.now();
    await pacer.turn();
    expect(performance.now() - started).toBeLessThan(100);
    const times = await Promise.all([1, 2].map(() => pacer.turn().then(() => performance.now())));
    expect((times[0] ?? 0) - started).toBeGreaterThanOrEqual(198);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(198);
  });

  it("does not wait when the last reload is older than the gap", async () => {
    let now = 0;
    const pacer = new ReloadPacer(10_000, () => now);
    await pacer.turn();
    now = 20_000;
    const started = performance.now();
    await pacer.turn();
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
