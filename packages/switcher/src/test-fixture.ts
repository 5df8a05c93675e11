import { compileServiceDefinition, type ServiceDefinition } from "@bluegreen/contracts";
import type { SwitchPorts } from "./ports.ts";
import { renderUpstream } from "./upstream-file.ts";

/** A compiled definition for unit tests: two nodes per colour unless told otherwise. */
export function fixtureDefinition(
  overrides: { keepalive?: number; file?: string; verifyUrl?: string } = {},
): Readonly<ServiceDefinition> {
  return compileServiceDefinition({
    service: "emily",
    nodes: {
      blue: [
        { host: "10.0.0.10", port: 8000 },
        { host: "10.0.0.12", port: 8000 },
      ],
      green: { host: "10.0.0.11", port: 8000 },
    },
    deploy: { workdir: "/opt/emily", steps: [["true"]] },
    readiness: { path: "/health" },
    traffic: {
      upstream: "emily_active",
      file: overrides.file ?? "/etc/nginx/bluegreen/emily-active.conf",
      verify: { url: overrides.verifyUrl ?? "http://127.0.0.1/health", timeout: "2s" },
      keepalive: overrides.keepalive ?? 0,
    },
    monitor: {
      source: { scrape: true },
      slos: [{ name: "errors", scrape: { errorRatio: {} }, max: 0.05 }],
    },
  });
}

/**
 * SwitchPorts for unit tests: the record says blue (revision 3) and `def`'s file serves blue;
 * every write, command, probe and verification succeeds. `over` replaces any of them.
 */
export function fixturePorts(
  def: Readonly<ServiceDefinition>,
  over: Partial<SwitchPorts> = {},
): SwitchPorts {
  return {
    readActive: async () => ({
      record: {
        color: "blue",
        version: "v1",
        switchedAt: "2026-01-01T00:00:00.000Z",
        reason: "promote",
      },
      revision: 3,
    }),
    writeActive: async () => 4,
    readFile: async () => renderUpstream(def, "blue", "g1"),
    writeFile: async () => ({ dirSynced: Promise.resolve() }),
    restoreFile: async () => undefined,
    runCommand: async () => ({ ok: true, code: 0, output: "", durationMs: 1 }),
    probe: async () => ({ ready: true }),
    verify: async () => ({ ok: true, attempts: 1, durationMs: 1 }),
    now: () => new Date(),
    ...over,
  };
}
