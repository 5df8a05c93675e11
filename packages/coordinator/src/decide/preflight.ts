import {
  type ActiveRecord,
  type AgentRole,
  type Color,
  FREEZE_ALL,
  type FreezeRecord,
  freezeHolds,
  nodeId,
  otherColor,
  type ServiceDefinition,
  versionProblem,
} from "@bluegreen/contracts";
import type { PreflightOutcome } from "./inputs.ts";
import type { Plan } from "./state.ts";

/**
 * Pre-flight, pure: given what the shell read (definition, active colour, heartbeats), either
 * the plan of the deployment or a coded refusal. The service lock is taken afterwards, by the
 * shell, only when this passes.
 */

/** What the coordinator knows of one agent from its last heartbeat. */
export interface AgentSeen {
  role: AgentRole;
  agentId: string;
  services: readonly string[];
  color?: Color | undefined;
  nodes?: readonly { node: string; healthy: boolean; version?: string | undefined }[] | undefined;
  lastSeen: Date;
}

export interface PreflightFacts {
  service: string;
  version: string;
  manualPromotion: boolean;
  definition: Readonly<ServiceDefinition> | undefined;
  active: { record: ActiveRecord; revision: number } | undefined;
  agents: readonly AgentSeen[];
  /** The service's freeze and the freeze of every service, as stored (expired ones too). */
  freezes?: readonly FreezeRecord[];
  /** A rollback (`bluegreen rollback --to`) goes through a freeze. */
  kind?: "rollback" | "retry" | undefined;
}

export interface PreflightOptions {
  requireHeartbeats: boolean;
  heartbeatMaxAgeMs: number;
  now: Date;
}

export function planOf(
  definition: Readonly<ServiceDefinition>,
  active: PreflightFacts["active"],
  manualPromotion: boolean,
): Plan {
  const activeColor = active?.record.color ?? null;
  const targetColor: Color = activeColor === null ? "blue" : otherColor(activeColor);
  const smokeMs = definition.smoke.reduce((sum, check) => sum + check.timeout, 0);
  return {
    targetColor,
    activeColor,
    previousVersion: active?.record.version ?? null,
    activeRevision: active?.revision ?? 0,
    nodes: definition.nodes[targetColor].map((n) => ({ host: n.host, port: n.port })),
    manualPromotion: manualPromotion || definition.promotion.manual,
    timeouts: {
      deployMs: definition.deploy.timeout,
      readinessMs: definition.readiness.timeout,
      smokeMs,
      promotionMs: definition.promotion.timeout,
      switchMs: definition.traffic.switch_timeout,
      monitorWindowMs: definition.monitor.window,
      monitorIntervalMs: definition.monitor.interval,
    },
  };
}

const servesService = (agent: AgentSeen, service: string) =>
  agent.services.includes(service) || agent.services.includes("*");

/** Whether a node agent's heartbeat covers a node of the target colour. */
function coversNode(agent: AgentSeen, node: string, color: Color): boolean {
  if (agent.nodes !== undefined && agent.nodes.length > 0)
    return agent.nodes.some((n) => n.node === node);
  return agent.color === undefined || agent.color === color;
}

/** The first missing agent, as the `detail` of BG_ERR_DEPLOY_AGENT_MISSING, or undefined. */
export function missingAgent(
  plan: Plan,
  service: string,
  agents: readonly AgentSeen[],
  opts: PreflightOptions,
): { role: AgentRole; detail: string } | undefined {
  const fresh = agents.filter(
    (a) =>
      servesService(a, service) &&
      opts.now.getTime() - a.lastSeen.getTime() <= opts.heartbeatMaxAgeMs,
  );
  for (const node of plan.nodes.map(nodeId)) {
    const covered = fresh.some(
      (a) => a.role === "node-agent" && coversNode(a, node, plan.targetColor),
    );
    if (!covered) return { role: "node-agent", detail: ` (node ${node} of ${plan.targetColor})` };
  }
  if (!fresh.some((a) => a.role === "switcher")) return { role: "switcher", detail: "" };
  if (!fresh.some((a) => a.role === "monitor")) return { role: "monitor", detail: "" };
  return undefined;
}

export function preflight(facts: PreflightFacts, opts: PreflightOptions): PreflightOutcome {
  const { service, version, definition, active } = facts;
  const unsafe = versionProblem(version);
  if (unsafe !== undefined)
    return {
      ok: false,
      code: "BG_ERR_VERSION_UNSAFE",
      params: { version: version.slice(0, 140), reason: unsafe },
    };
  if (definition === undefined)
    return { ok: false, code: "BG_ERR_CONFIG_UNKNOWN_SERVICE", params: { service } };
  const freeze = facts.kind === "rollback" ? undefined : freezeNow(facts.freezes ?? [], opts.now);
  if (freeze !== undefined)
    return {
      ok: false,
      code: "BG_ERR_DEPLOY_FROZEN",
      params: {
        service,
        by: freeze.by,
        reason: freeze.reason,
        until: freeze.until ?? "lifted",
      },
    };
  if (active !== undefined && active.record.version === version)
    return {
      ok: false,
      code: "BG_ERR_DEPLOY_ALREADY_ACTIVE",
      params: { version, service, color: active.record.color },
    };
  const plan = planOf(definition, active, facts.manualPromotion);
  if (opts.requireHeartbeats) {
    const missing = missingAgent(plan, service, facts.agents, opts);
    if (missing !== undefined)
      return {
        ok: false,
        code: "BG_ERR_DEPLOY_AGENT_MISSING",
        params: { role: missing.role, service, detail: missing.detail },
      };
  }
  return { ok: true, plan };
}

/** The freeze that holds at `now` (the one lasting longest when both do), or undefined. */
export function freezeNow(freezes: readonly FreezeRecord[], now: Date): FreezeRecord | undefined {
  const holding = freezes.filter((f) => freezeHolds(f, now));
  const end = (f: FreezeRecord) => (f.until === undefined ? Infinity : Date.parse(f.until));
  return holding.sort((a, b) => end(b) - end(a))[0];
}

/**
 * The freeze holding for a service at `now` (its own or every service's), as pre-flight sees
 * it, from the freezes keyed by service (`_all` for every service).
 */
export function freezeOf(
  freezes: ReadonlyMap<string, FreezeRecord>,
  service: string,
  now = new Date(),
): FreezeRecord | undefined {
  const mine = [freezes.get(service), freezes.get(FREEZE_ALL)].flatMap((f) =>
    f === undefined ? [] : [f],
  );
  return freezeNow(mine, now);
}

/** The refusal for a service whose lock another deployment holds. */
export function busy(service: string, holder: string, phase: string): PreflightOutcome {
  return {
    ok: false,
    code: "BG_ERR_DEPLOY_BUSY",
    params: { service, deploymentId: holder, phase },
    busy: true,
    runningDeploymentId: holder,
  };
}
