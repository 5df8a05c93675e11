import { type Color, createEvent } from "@bluegreen/contracts";
import { createLogger, KeyedQueue } from "@bluegreen/runtime";
import { describe, expect, it } from "vitest";
import type { ServedOptions, SwitchPorts } from "./ports.ts";
import { Switcher, type SwitcherDeps } from "./switcher.ts";
import { fixtureDefinition, fixturePorts } from "./test-fixture.ts";

// The Switcher's running drift check against its turns (the service's queue), with ports that
// script what nginx serves: a switch never waits behind the check's looks, and a drift left
// standing ends only when nginx answers from the recorded colour.

const def = fixtureDefinition({ file: "/nonexistent/emily-active.conf" });

function rig(served: NonNullable<SwitchPorts["served"]>) {
  const queue = new KeyedQueue();
  const applied: string[] = [];
  const emitted: { type: string; data: unknown }[] = [];
  const ports = fixturePorts(def, { served });
  const deps: SwitcherDeps = {
    config: {
      agent_id: "drift-test",
      services: [def.service],
      on_drift: "report",
      drift_interval: 20,
    },
    bus: {
      consume: (async () => ({
        stop: async () => undefined,
      })) as unknown as SwitcherDeps["bus"]["consume"],
      emit: (async (type: string, e: { data: unknown }) => {
        emitted.push({ type, data: e.data });
      }) as unknown as SwitcherDeps["bus"]["emit"],
    },
    definitions: { get: () => def, list: () => [] },
    ports,
    nginx: { testCommand: ["true"], reloadCommand: ["true"], commandTimeoutMs: 1_000 },
    runner: {
      within: ((key: string, task: () => Promise<unknown>) =>
        queue.run(key, task)) as unknown as SwitcherDeps["runner"]["within"],
      apply: ((key: string) =>
        queue.run(key, async () => {
          applied.push(key);
          return {};
        })) as unknown as SwitcherDeps["runner"]["apply"],
      idle: () => queue.idle(),
    },
    logger: createLogger({ level: "silent" }),
  };
  return { switcher: new Switcher(deps), applied, emitted };
}

async function until(what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const request = () =>
  createEvent("switch.requested", {
    service: def.service,
    source: "bluegreen/test/switcher",
    data: { to: "green", reason: "manual", expectedRevision: 3 },
  });

describe("the running drift check and the service's turn", () => {
  it("a switch requested while a check looks at nginx ends the look instead of waiting it out", async () => {
    const ended: string[] = [];
    let looking = 0;
    // A look that answers only after 3 s, unless a switch ends it first.
    const served = (_url: string, _def: unknown, opts?: ServedOptions) =>
      new Promise<Color | null>((resolve) => {
        looking++;
        const timer = setTimeout(() => {
          ended.push("answered");
          resolve("blue");
        }, 3_000);
        opts?.signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          ended.push("cut short");
          resolve(null);
        });
      });
    const { switcher, applied } = rig(served);
    await switcher.start();
    try {
      await until("a look at nginx", () => looking > 0);
      await switcher.handle(request());
      expect(applied).toEqual([def.service]);
      expect(ended[0]).toBe("cut short");
    } finally {
      await switcher.stop();
    }
  });

  it("a served drift left standing ends only on an answer from the recorded colour", async () => {
    // check 1: green (drift, published); check 2: green (the same: not again); check 3: no
    // colour, then green for "is it gone?" (it is not: still not the recorded blue); later
    // checks: green (still the same drift: not published again).
    const script: (Color | null)[] = ["green", "green", null, "green"];
    let calls = 0;
    const served = async () => {
      const answer = calls < script.length ? (script[calls] as Color | null) : "green";
      calls++;
      return answer;
    };
    const { switcher, emitted } = rig(served);
    await switcher.start();
    try {
      await until("six looks", () => calls >= 6);
    } finally {
      await switcher.stop();
    }
    const drifts = emitted.filter((e) => e.type === "switch.drift");
    expect(drifts).toHaveLength(1);
    expect(drifts[0]?.data).toMatchObject({ recorded: "blue", found: "blue", served: "green" });
  });
});
