import type { Color, ServiceDefinition } from "@bluegreen/contracts";
import { httpGet } from "./http-get.ts";
import { nginxAddress } from "./upstream-file.ts";

/**
 * Before the upstream file changes (promotion and rollback alike), every node of the target
 * colour must answer its readiness path with the expected status right now.
 */

export type ProbeSpec = Pick<ServiceDefinition, "nodes" | "readiness">;

export type ProbeResult = { ready: true } | { ready: false; node: string; reason: string };

export const PROBE_TIMEOUT_MS = 2_000;

function readinessUrl(host: string, port: number, path: string): URL {
  const address = host.includes(":") ? `[${host}]` : host;
  return new URL(`http://${address}:${port}${path}`);
}

export async function probeColor(
  def: ProbeSpec,
  color: Color,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ProbeResult> {
  const { path, expect_status: expected } = def.readiness;
  const results = await Promise.all(
    def.nodes[color].map(async (node) => {
      const answer = await httpGet(readinessUrl(node.host, node.port, path), timeoutMs);
      const reason = !answer.ok
        ? answer.error
        : answer.status !== expected
          ? `${path} answered ${answer.status}, expected ${expected}`
          : undefined;
      return { node: nginxAddress(node), reason };
    }),
  );
  const failed = results.find((r) => r.reason !== undefined);
  return failed === undefined
    ? { ready: true }
    : { ready: false, node: failed.node, reason: failed.reason ?? "" };
}
