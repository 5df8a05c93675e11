import type { Color } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import type { DriftMode } from "./drift.ts";
import { checkDrift } from "./drift-check.ts";
import type { SwitchPorts } from "./ports.ts";
import { fixtureDefinition, fixturePorts } from "./test-fixture.ts";

// The running check when the file matches the record: what nginx serves decides.
const def = fixtureDefinition({ file: "/nginx/emily-active.conf" });
const nginx = {
  testCommand: ["nginx", "-t"],
  reloadCommand: ["nginx", "-s", "reload"],
  commandTimeoutMs: 1_000,
};

function world(served: Color | null, opts: { verify?: boolean } = {}) {
  const calls: string[] = [];
  const ports = fixturePorts(def, {
    writeActive: async () => {
      calls.push("record");
      return 4;
    },
    writeFile: async () => {
      calls.push("write");
      return { dirSynced: Promise.resolve() };
    },
    restoreFile: async () => {
      calls.push("restore");
    },
    runCommand: async (argv) => {
      calls.push(argv.includes("-t") ? "test" : "reload");
      return { ok: true, code: 0, output: "", durationMs: 1 };
    },
    verify: async (_u, _d, color) => {
      calls.push(`verify ${color}`);
      return (opts.verify ?? true)
        ? { ok: true, attempts: 1, durationMs: 1 }
        : { ok: false, attempts: 9, durationMs: 100, last: "green answered" };
    },
    served: async () => {
      calls.push("served?");
      return served;
    },
    now: () => new Date("2026-01-01T00:00:00.000Z"),
  });
  return { ports, calls };
}

const check = (ports: SwitchPorts, mode: DriftMode, running = true) =>
  checkDrift(def, ports, { mode, nginx, running });

describe("checkDrift while running: what nginx serves", () => {
  it("nginx serves the recorded colour: no drift, nothing done", async () => {
    const w = world("blue");
    expect(await check(w.ports, "reapply")).toBeUndefined();
    expect(w.calls).toEqual(["served?"]);
  });

  it("an answer that names no colour tells nothing: no drift", async () => {
    const w = world(null);
    expect(await check(w.ports, "reapply")).toBeUndefined();
  });

  it("nginx serves the other colour, reapply: reloaded with the file (not rewritten), verified", async () => {
    const w = world("green");
    expect(await check(w.ports, "reapply")).toEqual({
      file: def.traffic.file,
      recorded: "blue",
      found: "blue",
      served: "green",
      action: "reapplied",
      while: "running",
    });
    // Verification polls from the reload on (they run side by side): order aside, no write.
    expect([...w.calls].sort()).toEqual(["reload", "served?", "test", "verify blue"]);
  });

  it("reapply that nginx does not follow is reported", async () => {
    const w = world("green", { verify: false });
    expect(await check(w.ports, "reapply")).toMatchObject({ served: "green", action: "reported" });
  });

  it("adopt and report only report: the record already follows the file", async () => {
    for (const mode of ["adopt", "report"] as const) {
      const w = world("green");
      expect(await check(w.ports, mode)).toMatchObject({ served: "green", action: "reported" });
      expect(w.calls).toEqual(["served?"]);
    }
  });

  it("at start-up, what nginx serves is not looked at", async () => {
    const w = world("green");
    expect(await check(w.ports, "reapply", false)).toBeUndefined();
    expect(w.calls).toEqual([]);
  });
});
