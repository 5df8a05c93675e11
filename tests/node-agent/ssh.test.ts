// Given node agents that drive their node over SSH (the guide's agentless shape) against a
// real sshd, when deploys arrive, then the example definition deploys and passes its smoke
// checks; a wrong host key and an unreachable node fail with coded errors before any command.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import {
  freePorts,
  httpGet,
  runCommand,
  SAMPLE_APP_CTL,
  type Sshd,
  startSshd,
  timeline,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderLocalDefinition } from "../../examples/local/definition.ts";
import {
  type AgentProcess,
  applyDefinition,
  busAndDir,
  EXAMPLE_PASSED,
  finalEvent,
  publishGreenStarted,
  startAgent,
  waitForOutcome,
} from "./harness.ts";

const rig = busAndDir("node-agent-ssh");
let sshd: Sshd;
let agent: AgentProcess;
let wrongKeyAgent: AgentProcess;
let greenPort: number;
let deadSshPort: number;

/** The example definition under another service name (and SSH port). */
function definition(service: string, sshPort: number): string {
  return renderLocalDefinition({
    stateDir: rig.dir.path,
    bluePort: 1,
    greenPort,
    executor: "ssh",
    sshPort,
  }).replace(/^service: local-app$/m, `service: ${service}`);
}

beforeAll(async () => {
  const { bus, dir } = rig;
  let ports: number[];
  [sshd, ports] = await Promise.all([startSshd(), freePorts(2)]);
  [greenPort, deadSshPort] = ports as [number, number];
  const knownHosts = dir.file("known_hosts");
  writeFileSync(
    knownHosts,
    `${sshd.knownHostsLine}\n[${sshd.host}]:${deadSshPort} ${sshd.hostPublicKey}\n`,
  );
  const wrongKnownHosts = dir.file("known_hosts_wrong");
  // A well-formed ed25519 key that is not the server's.
  writeFileSync(
    wrongKnownHosts,
    `[${sshd.host}]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`,
  );
  await Promise.all([
    applyDefinition(bus, definition("local-app", sshd.port)),
    applyDefinition(bus, definition("wrong-key", sshd.port)),
    applyDefinition(bus, definition("unreachable", deadSshPort)),
  ]);
  const ssh = {
    user: sshd.user,
    key_file: sshd.clientKeyPath,
    known_hosts_file: knownHosts,
    connect_timeout: "5s",
  };
  [agent, wrongKeyAgent] = await Promise.all([
    startAgent(bus, dir, {
      serves: [
        { service: "local-app", color: "green" },
        { service: "unreachable", color: "green" },
      ],
      ssh,
    }),
    startAgent(bus, dir, {
      serves: [{ service: "wrong-key", color: "green" }],
      ssh: { ...ssh, known_hosts_file: wrongKnownHosts },
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([agent?.stop(), wrongKeyAgent?.stop()]);
  const appDir = rig.dir?.file("local-app-green");
  if (appDir !== undefined && existsSync(appDir))
    await runCommand(process.execPath, [SAMPLE_APP_CTL, "stop", "--dir", appDir]);
  await sshd?.stop();
});

/** Deploys v3.1 of `service` to green and waits for its outcome; returns its events. */
async function deploy(service: string, deploymentId: string, timeoutMs?: number) {
  await publishGreenStarted(rig.bus, { service, deploymentId, version: "v3.1", port: greenPort });
  return waitForOutcome(rig.bus, deploymentId, timeoutMs);
}

describe("node agent, ssh executor", () => {
  it("given the example definition with executor ssh, when v3.1 is deployed, then it runs over SSH and the smoke checks pass", async () => {
    const events = await deploy("local-app", "d-ssh-1", 45_000);
    // On failure, show what the node said (exit code, output tail), not only the event names.
    const failure = events.find((e) => e.type === "bluegreen.deploy.failed");
    expect(timeline(events), JSON.stringify(failure?.data)).toEqual(EXAMPLE_PASSED);
    expect(finalEvent(events, "smoke.passed").data.checks.every((c) => c.ok)).toBe(true);
    const health = await httpGet(`http://127.0.0.1:${greenPort}/health`);
    expect(JSON.parse(health?.body ?? "{}")).toMatchObject({ status: "healthy", version: "v3.1" });
    expect(readFileSync(rig.dir.file("local-app-green", "VERSION"), "utf8").trim()).toBe("v3.1");
  });

  it("given a known-hosts entry with another key, then the node is refused before any command runs", async () => {
    const events = await deploy("wrong-key", "d-ssh-wrong-key");
    expect(timeline(events)).toEqual(["deploy.started", "deploy.failed"]);
    const failed = finalEvent(events, "deploy.failed");
    expect(failed.data).toMatchObject({
      stage: "deploy",
      error: { code: "BG_ERR_SSH_HOST_KEY_MISMATCH", retryable: false },
    });
    expect(failed.data.error.message).toContain(`${sshd.host}:${sshd.port}`);
    expect(existsSync(rig.dir.file("wrong-key-green"))).toBe(false);
  });

  it("given nothing answers on the node's SSH port, then the deploy fails as unreachable", async () => {
    const events = await deploy("unreachable", "d-ssh-unreachable");
    expect(timeline(events)).toEqual(["deploy.started", "deploy.failed"]);
    const failed = finalEvent(events, "deploy.failed");
    expect(failed.data.error).toMatchObject({ code: "BG_ERR_SSH_UNREACHABLE", retryable: true });
    expect(failed.data.error.message).toContain("connection refused");
    expect(existsSync(rig.dir.file("unreachable-green"))).toBe(false);
  });
});
