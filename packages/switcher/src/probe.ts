import type { Color, ServiceDefinition } from "@bluegreen/contracts";
import { type HttpAnswer, httpCall } from "@bluegreen/runtime";
import { nginxAddress } from "./upstream-file.ts";

/**
 * Before the upstream file changes (promotion and rollback alike), every node of the target
 * colour must answer its readiness path with the expected status right now.
 */

export type ProbeSpec = Pick<ServiceDefinition, "nodes" | "readiness">;

export type ProbeResult = { ready: true } | { ready: false; node: string; reason: string };

export const PROBE_TIMEOUT_MS = 2_000;

/** The most of an answer's body read (a probe or a verification needs its first bytes). */
export const BODY_LIMIT = 16 * 1024;

/**
 * One GET on a new connection (the runtime's client opens one per request): a probe or a
 * verification must not ride on a kept-alive connection to an nginx worker that is shutting
 * down after a reload.
 */
export function getOnce(
  url: string | URL,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<HttpAnswer> {
  return httpCall({
    url,
    timeoutMs,
    signal,
    maxBodyBytes: BODY_LIMIT,
    headers: { connection: "close", accept: "application/json" },
  });
}

/** Why an answer is not one: the system error code when there is one ("ECONNREFUSED"), else
 * the reason ("no answer within 2000 ms"). */
export function failureOf(answer: Extract<HttpAnswer, { kind: "error" }>): string {
  return answer.code ?? answer.reason;
}

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
      const answer = await getOnce(readinessUrl(node.host, node.port, path), timeoutMs);
      const reason =
        answer.kind === "error"
          ? failureOf(answer)
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
