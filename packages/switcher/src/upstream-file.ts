import type { Color, ServiceDefinition, ServiceNode } from "@bluegreen/contracts";
import { COLORS } from "@bluegreen/contracts";

/**
 * The active-upstream file the switcher owns for one service: a pure render of the
 * definition for one colour, and the reverse (which colour a file on disk holds).
 *
 * ```nginx
 * # managed by bluegreen-switcher: service=emily color=green
 * upstream emily_active {
 *     server 10.0.0.11:8000;
 * }
 * map $host $bluegreen_emily_active_generation {
 *     default "mbx3k2-1f0c9a";
 * }
 * ```
 *
 * The generation is new on every write. A site config that adds it as a response header
 * (`add_header X-Bluegreen-Generation $bluegreen_emily_active_generation always;`) lets the
 * verification tell an nginx worker running the new file from an old worker still running an
 * earlier one — which after two quick switches may point at the same colour.
 */
export const HEADER_PREFIX = "# managed by bluegreen-switcher:";

const HEADER_PATTERN =
  /^# managed by bluegreen-switcher: service=([a-z][a-z0-9-]*) color=(\w+)\s*$/m;
const SERVER_PATTERN = /^\s*server\s+(\S+?)\s*(?:\s[^;]*)?;/gm;

/** `host:port` as nginx wants it (IPv6 addresses in brackets). */
export function nginxAddress(node: Pick<ServiceNode, "host" | "port">): string {
  return node.host.includes(":") ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}

export type UpstreamSpec = Pick<ServiceDefinition, "service" | "nodes"> & {
  traffic: Pick<ServiceDefinition["traffic"], "upstream" | "keepalive">;
};

/** The nginx variable holding the generation of the loaded file: `bluegreen_<upstream>_generation`. */
export function generationVariable(upstream: string): string {
  return `bluegreen_${upstream}_generation`;
}

const GENERATION_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** The file content that makes nginx send the service's traffic to `color`. */
export function renderUpstream(def: UpstreamSpec, color: Color, generation: string): string {
  if (!GENERATION_PATTERN.test(generation)) throw new Error(`bad generation '${generation}'`);
  const lines = [
    `${HEADER_PREFIX} service=${def.service} color=${color}`,
    "# Written atomically by the switcher; edits by hand are reported as drift at its start.",
    `upstream ${def.traffic.upstream} {`,
    ...def.nodes[color].map((node) => `    server ${nginxAddress(node)};`),
  ];
  if (def.traffic.keepalive > 0) lines.push(`    keepalive ${def.traffic.keepalive};`);
  lines.push(
    "}",
    `map $host $${generationVariable(def.traffic.upstream)} {`,
    `    default "${generation}";`,
    "}",
    "",
  );
  return lines.join("\n");
}

/** The generation a file was written with (undefined for a file without one). */
export function generationOfFile(content: string, upstream: string): string | undefined {
  const variable = generationVariable(upstream);
  const block = new RegExp(`map \\$host \\$${variable} \\{\\s*default "([A-Za-z0-9._-]+)";`);
  return block.exec(content)?.[1];
}

export interface FileColor {
  /** The colour the file sends traffic to, or null when it cannot tell. */
  color: Color | null;
  /** How the colour was read: the switcher's header, the server lines, or not at all. */
  by: "header" | "servers" | "none";
}

/** The `server` addresses listed in a file, in order. */
export function serversIn(content: string): string[] {
  return [...content.matchAll(SERVER_PATTERN)].map((m) => m[1] ?? "");
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((x) => left.has(x));
}

/**
 * Which colour a file holds. The server lines decide when they are exactly one colour's
 * nodes, since that is what nginx acts on (a hand-edited file keeps a stale header). Otherwise
 * the switcher's header tells (the definition's nodes changed since the file was written).
 */
export function colorOfFile(content: string, def: UpstreamSpec): FileColor {
  const servers = serversIn(content);
  const byServers = COLORS.find((c) => sameSet(servers, def.nodes[c].map(nginxAddress)));
  const header = HEADER_PATTERN.exec(content);
  const byHeader = header?.[1] === def.service ? COLORS.find((c) => c === header[2]) : undefined;
  if (byServers !== undefined) {
    return { color: byServers, by: byHeader === byServers ? "header" : "servers" };
  }
  if (byHeader !== undefined) return { color: byHeader, by: "header" };
  return { color: null, by: "none" };
}
