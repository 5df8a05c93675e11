import { userInfo } from "node:os";
import type { NodeAgentConfig, ServiceDefinition } from "@bluegreen/contracts";
import type { DeployPlan } from "../plan.ts";
import type { Target } from "../targets.ts";
import type { Executor } from "./executor.ts";
import { localExecutor } from "./local.ts";
import type { GroupHost } from "./process-group.ts";
import type { SshTarget } from "./ssh.ts";

export type ExecutorFactory = (
  target: Target,
  plan: DeployPlan,
  definition: Readonly<ServiceDefinition>,
) => Promise<Executor>;

/** A node's sshd and the user the agent logs in as there. */
export interface SshEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
}

/** Connects to a node's sshd to see and end a process group there. */
export type RemoteGroups = (endpoint: SshEndpoint) => Promise<GroupHost>;

/** Key, passphrase, agent socket and known-hosts from the agent config, for one endpoint. */
function sshTarget(config: Readonly<NodeAgentConfig>, endpoint: SshEndpoint): SshTarget {
  const ssh = config.ssh;
  const passphraseEnv = ssh?.passphrase_env;
  return {
    ...endpoint,
    keyFile: ssh?.key_file,
    passphrase: passphraseEnv === undefined ? undefined : process.env[passphraseEnv],
    agentSocket: ssh?.use_agent ? process.env.SSH_AUTH_SOCK : undefined,
    knownHostsFile: ssh?.known_hosts_file ?? "~/.ssh/known_hosts",
    connectTimeoutMs: ssh?.connect_timeout ?? 10_000,
  };
}

/**
 * What a local step inherits of the agent's environment: all of it but the SSH key's
 * passphrase and `NODE_OPTIONS` — the agent's own V8 tuning (its unit sets
 * `--v8-pool-size=1`), which would otherwise reach the service's Node processes that the steps
 * start, for good. A step that wants NODE_OPTIONS gets it from the definition's `deploy.env`.
 */
export function stepBaseEnv(
  env: NodeJS.ProcessEnv,
  passphraseEnv: string | undefined,
): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _agentOnly, ...inherited } = env;
  if (passphraseEnv !== undefined) delete inherited[passphraseEnv];
  return inherited;
}

/**
 * The default executor: local for `executor: agent`, SSH for `executor: ssh` (host from the
 * node, SSH port and user from the definition's node, key and known-hosts from the agent
 * config).
 */
export function defaultExecutorFactory(config: Readonly<NodeAgentConfig>): ExecutorFactory {
  const baseEnv = stepBaseEnv(process.env, config.ssh?.passphrase_env);
  return async (target, _plan, definition) => {
    if (definition.deploy.executor !== "ssh") return localExecutor({ baseEnv });
    // Loaded on first use: node-ssh costs an agent that only deploys locally ~14 MB.
    const { sshExecutor } = await import("./ssh.ts");
    return sshExecutor(
      sshTarget(config, {
        host: target.node.host,
        port: target.defined?.ssh?.port ?? 22,
        user: target.defined?.ssh?.user ?? config.ssh?.user ?? userInfo().username,
      }),
    );
  };
}

/** The default way to a node's groups: SSH with the agent config's key and known-hosts. */
export function defaultRemoteGroups(config: Readonly<NodeAgentConfig>): RemoteGroups {
  return async (endpoint) => {
    const { sshGroupHost } = await import("./ssh.ts");
    return sshGroupHost(sshTarget(config, endpoint));
  };
}
