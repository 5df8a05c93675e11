import { BgError } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { canMove, Lifecycle } from "./lifecycle.ts";

describe("Lifecycle", () => {
  it("walks created → starting → running → stopping → stopped, telling listeners", () => {
    const lifecycle = new Lifecycle("switcher/s1");
    const seen: string[] = [];
    lifecycle.onTransition((from, to) => seen.push(`${from}>${to}`));
    for (const state of ["starting", "running", "stopping", "stopped"] as const)
      lifecycle.set(state);
    expect(lifecycle.state).toBe("stopped");
    expect(seen).toEqual([
      "created>starting",
      "starting>running",
      "running>stopping",
      "stopping>stopped",
    ]);
  });

  it("refuses an illegal move with an error that names the state", () => {
    const lifecycle = new Lifecycle("switcher/s1");
    expect(() => lifecycle.set("running")).toThrow(
      /switcher\/s1 cannot move to running while created/,
    );
  });

  it("assertState throws BG_ERR_LIFECYCLE_STATE naming the state and the action", () => {
    const lifecycle = new Lifecycle("coordinator/c1");
    lifecycle.set("starting");
    let error: unknown;
    try {
      lifecycle.assertState(["running"], "accept a deploy");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BgError);
    expect((error as BgError).code).toBe("BG_ERR_LIFECYCLE_STATE");
    expect((error as BgError).message).toBe("coordinator/c1 cannot accept a deploy while starting");
    expect(() => lifecycle.assertState(["starting", "running"], "accept a deploy")).not.toThrow();
  });

  it("lets any live state fail, and a failed agent stop", () => {
    for (const from of ["created", "starting", "running", "stopping"] as const)
      expect(canMove(from, "failed")).toBe(true);
    expect(canMove("failed", "stopped")).toBe(true);
    expect(canMove("stopped", "starting")).toBe(false);
  });
});
