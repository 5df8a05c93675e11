import { compileServiceDefinition, type ServiceDefinition } from "@bluegreen/contracts";

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
