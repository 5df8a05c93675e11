import { afterEach, describe, expect, it } from "vitest";
import { installShutdown, type ShutdownHandle } from "./shutdown.ts";

const handles: ShutdownHandle[] = [];
afterEach(() => {
  for (const h of handles.splice(0)) h.dispose();
});

function install(fn: () => Promise<void>, timeoutMs = 1_000) {
  const exits: number[] = [];
  const handle = installShutdown(["SIGUSR2"], fn, { timeoutMs, exit: (code) => exits.push(code) });
  handles.push(handle);
  return { handle, exits };
}

describe("installShutdown", () => {
  it("runs the shutdown once on the signal and exits 0", async () => {
    let runs = 0;
    const { handle, exits } = install(async () => {
      runs++;
    });
    process.emit("SIGUSR2", "SIGUSR2");
    process.emit("SIGUSR2", "SIGUSR2");
    expect(await handle.trigger("again")).toBe(0);
    expect(runs).toBe(1);
    expect(exits).toEqual([0]);
  });

  it("exits 1 when the shutdown throws", async () => {
    const { handle, exits } = install(async () => {
      throw new Error("drain failed");
    });
    expect(await handle.trigger("test")).toBe(1);
    expect(exits).toEqual([1]);
  });

  it("exits 1 when the shutdown takes too long", async () => {
    const { handle, exits } = install(() => new Promise(() => undefined), 50);
    expect(await handle.trigger("test")).toBe(1);
    expect(exits).toEqual([1]);
  });
});
