import {
  assertSafeVersion,
  type Color,
  expandArgv,
  expandPlaceholders,
  type NodeRef,
  type ServiceDefinition,
} from "@bluegreen/contracts";

/**
 * What a deploy of one node will run, computed before anything runs: the version is checked
 * (again: the event schema refuses unsafe versions, the executor boundary refuses them too),
 * placeholders are substituted inside argv elements only, and the BLUEGREEN_* variables set.
 */
export interface DeployPlan {
  readonly service: string;
  readonly deploymentId: string;
  readonly version: string;
  readonly color: Color;
  readonly node: NodeRef;
  readonly workdir: string;
  readonly steps: readonly (readonly string[])[];
  readonly env: Readonly<Record<string, string>>;
  /** Overall budget for all steps. */
  readonly timeoutMs: number;
  /** Budget of one step (the overall budget left caps it). */
  readonly stepTimeoutMs: number | undefined;
}

export interface PlanInput {
  readonly definition: Pick<ServiceDefinition, "service" | "deploy">;
  readonly deploymentId: string;
  readonly version: string;
  readonly color: Color;
  readonly node: NodeRef;
  /** The agent config's `serves[].workdir`, which overrides the definition's. */
  readonly workdirOverride?: string | undefined;
}

/** Throws BG_ERR_VERSION_UNSAFE before anything else is computed. */
export function planDeploy(input: PlanInput): DeployPlan {
  const version = assertSafeVersion(input.version);
  const { service, deploy } = input.definition;
  const values = {
    version,
    service,
    color: input.color,
    host: input.node.host,
    port: String(input.node.port),
  };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(deploy.env ?? {})) {
    env[name] = expandPlaceholders(value, values);
  }
  Object.assign(env, {
    BLUEGREEN_SERVICE: service,
    BLUEGREEN_VERSION: version,
    BLUEGREEN_COLOR: input.color,
    BLUEGREEN_DEPLOYMENT_ID: input.deploymentId,
    BLUEGREEN_NODE_HOST: input.node.host,
    BLUEGREEN_NODE_PORT: String(input.node.port),
  });
  return {
    service,
    deploymentId: input.deploymentId,
    version,
    color: input.color,
    node: { host: input.node.host, port: input.node.port },
    workdir: input.workdirOverride ?? deploy.workdir,
    steps: deploy.steps.map((argv) => expandArgv(argv, values)),
    env,
    timeoutMs: deploy.timeout,
    stepTimeoutMs: deploy.step_timeout,
  };
}

/** The time one step may take, given when the whole deploy must be done. */
export function stepBudget(
  plan: Pick<DeployPlan, "stepTimeoutMs">,
  remainingMs: number,
): { timeoutMs: number; cutByDeadline: boolean } {
  const remaining = Math.max(0, Math.floor(remainingMs));
  if (plan.stepTimeoutMs === undefined || plan.stepTimeoutMs >= remaining) {
    return { timeoutMs: remaining, cutByDeadline: true };
  }
  return { timeoutMs: plan.stepTimeoutMs, cutByDeadline: false };
}

const ELEMENT_CHARS = 256;
const COMMAND_CHARS = 2048;

/**
 * A command as it is shown in events and logs: bounded, so an event never outgrows the
 * size limit (`deploy.progress.command`).
 */
export function displayCommand(argv: readonly string[]): string[] {
  const out: string[] = [];
  let total = 0;
  for (const element of argv) {
    const shown =
      element.length > ELEMENT_CHARS ? `${element.slice(0, ELEMENT_CHARS - 1)}…` : element;
    if (total + shown.length > COMMAND_CHARS) {
      out.push("…");
      break;
    }
    out.push(shown);
    total += shown.length;
  }
  return out;
}

/** `git checkout v1.1`, bounded, for error messages. */
export function commandText(argv: readonly string[]): string {
  const text = displayCommand(argv).join(" ");
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
