import {
  type Color,
  type NodeAgentConfig,
  type NodeRef,
  nodeId,
  type ServiceDefinition,
  type ServiceNode,
} from "@bluegreen/contracts";

/** One node this agent deploys for a `deploy.started`. */
export interface Target {
  readonly node: NodeRef;
  /** The node as the definition describes it (SSH settings), when it does. */
  readonly defined: ServiceNode | undefined;
  /** `serves[].workdir` of the matching entry. */
  readonly workdirOverride: string | undefined;
}

export type Serves = NodeAgentConfig["serves"];

/**
 * The nodes of a `deploy.started` that this agent handles: the event's nodes, kept only when a
 * `serves` entry names the service and colour (and, if it lists nodes, that node).
 */
export function selectTargets(
  serves: Serves,
  event: { service: string; color: Color; nodes: readonly NodeRef[] },
  definition: Pick<ServiceDefinition, "nodes"> | undefined,
): Target[] {
  const entries = serves.filter((s) => s.service === event.service && s.color === event.color);
  const seen = new Set<string>();
  const targets: Target[] = [];
  for (const node of event.nodes) {
    const id = nodeId(node);
    if (seen.has(id)) continue;
    const entry = entries.find((e) => e.nodes === undefined || e.nodes.includes(id));
    if (entry === undefined) continue;
    seen.add(id);
    targets.push({
      node: { host: node.host, port: node.port },
      defined: definition?.nodes[event.color].find((n) => nodeId(n) === id),
      workdirOverride: entry.workdir,
    });
  }
  return targets;
}

/** Every (service, colour, node) this agent serves now, for heartbeats and health polls. */
export function servedNodes(
  serves: Serves,
  definitionOf: (service: string) => Pick<ServiceDefinition, "nodes"> | undefined,
): Array<{ service: string; color: Color; node: ServiceNode }> {
  const out: Array<{ service: string; color: Color; node: ServiceNode }> = [];
  const seen = new Set<string>();
  for (const entry of serves) {
    const definition = definitionOf(entry.service);
    if (definition === undefined) continue;
    for (const node of definition.nodes[entry.color]) {
      const id = nodeId(node);
      if (entry.nodes !== undefined && !entry.nodes.includes(id)) continue;
      const key = `${entry.service}|${id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ service: entry.service, color: entry.color, node });
    }
  }
  return out;
}
