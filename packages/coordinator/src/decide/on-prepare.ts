import type { BgEvent } from "@bluegreen/contracts";
import { type Decision, type Draft, unchanged } from "./draft.ts";
import type { EventOf } from "./inputs.ts";
import { fail, startSwitch } from "./outcomes.ts";
import { isPreparing, laterStage, NodeStage, Phase, phaseOfStages } from "./phases.ts";

/**
 * The idle colour being prepared: step progress, readiness and smoke results per node. The
 * phase follows the slowest node; the switch waits until every node has passed smoke.
 */

type NodeReport = EventOf<"deploy.progress" | "deploy.ready" | "smoke.passed" | "smoke.failed">;

/** Whether a node report is about this deployment's nodes, colour and version. */
function concernsUs(d: Draft, event: NodeReport): boolean {
  const plan = d.state.plan;
  return (
    plan !== undefined &&
    Object.hasOwn(d.state.nodes, event.data.node) &&
    event.data.color === plan.targetColor &&
    event.data.version === d.state.version
  );
}

const ADVANCING: readonly string[] = [Phase.deploying, Phase.readiness, Phase.smoke];

export function onNodeReport(d: Draft, event: NodeReport): Decision {
  const s = d.state;
  if (!ADVANCING.includes(s.phase)) return unchanged(s, `${event.type} ignored in ${s.phase}`);
  if (!concernsUs(d, event))
    return unchanged(
      s,
      `${event.type} from ${event.data.node} is not about this deployment's nodes`,
    );
  const node = event.data.node;
  if (event.type === "bluegreen.smoke.failed") {
    return fail(d, {
      stage: "smoke",
      error: event.data.error,
      node,
      activeColor: s.plan?.activeColor,
    });
  }
  const reached =
    event.type === "bluegreen.smoke.passed"
      ? NodeStage.passed
      : event.type === "bluegreen.deploy.ready"
        ? NodeStage.smoke
        : event.data.status === "succeeded" && event.data.step === event.data.steps
          ? NodeStage.readiness
          : undefined;
  const current = s.nodes[node] ?? NodeStage.deploying;
  if (reached === undefined || laterStage(current, reached) === current)
    return unchanged(s, `${event.type} from ${node} changes nothing`);
  const nodes = { ...s.nodes, [node]: reached };
  d.set({ nodes });
  const stages = Object.values(nodes);
  if (stages.every((stage) => stage === NodeStage.passed)) return allPassed(d);
  const phase = phaseOfStages(stages);
  if (phase !== s.phase) d.to(phase);
  return d.done(`${node} reached ${reached}`);
}

/** Every node of the idle colour passed smoke: wait at the gate, or switch now. */
function allPassed(d: Draft): Decision {
  const plan = d.state.plan;
  if (plan === undefined) return d.done("no plan");
  if (plan.manualPromotion) {
    d.to(Phase.awaiting_promotion);
    d.publish("deploy.awaiting_promotion", { version: d.state.version, color: plan.targetColor });
    return d.done(`every node passed smoke; awaiting manual promotion`);
  }
  startSwitch(d, {
    to: plan.targetColor,
    reason: "promote",
    expectedRevision: plan.activeRevision,
  });
  return d.done(`every node passed smoke; switching to ${plan.targetColor}`);
}

export function promote(d: Draft, by?: string): Decision {
  const plan = d.state.plan;
  if (plan === undefined) return d.done("no plan");
  startSwitch(d, {
    to: plan.targetColor,
    reason: "promote",
    expectedRevision: plan.activeRevision,
    by,
  });
  return d.done(`promoted${by === undefined ? "" : ` by ${by}`}; switching to ${plan.targetColor}`);
}

/** A node agent gave up (a step, readiness): the deployment fails, traffic never moved. */
export function onAgentFailed(d: Draft, event: BgEvent<"deploy.failed">): Decision {
  const s = d.state;
  if (!isPreparing(s.phase)) return unchanged(s, `deploy.failed ignored in ${s.phase}`);
  if (event.data.color !== undefined && event.data.color !== s.plan?.targetColor)
    return unchanged(s, "deploy.failed about another colour ignored");
  return fail(d, {
    stage: event.data.stage,
    error: event.data.error,
    node: event.data.node,
    activeColor: s.plan?.activeColor,
    publish: false,
    published: event.data,
  });
}
