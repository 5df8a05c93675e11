// Given node agents that drive their node over SSH (the guide's agentless shape) against a
// real sshd, when deploys arrive, then the example definition deploys and passes its smoke
// checks; a wrong host key and an unreachable node fail with coded errors before any command.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import {
  freePorts,
  httpGet,
  makeTempDir,
  runCommand,
  SAMPLE_APP_CTL,
  type Sshd,
  startSshd,
  type TempDir,
  timeline,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderLocalDefinition } from "../../examples/local/definition.ts";
import {
  type AgentProcess,
  applyDefinition,
  type Bus,
  finalEvent,
  publishStarted,
  startAgent,
  startBus,
  waitForOutcome,
} from "./harness.ts";

let bus: Bus;
let dir: TempDir;
let sshd: Sshd;
let agent: AgentProcess;
let wrongKeyAgent: AgentProcess;
let greenPort: number;
let deadSshPort: number;

/** The example definition under another service name (and SSH port). */
function definition(service: string, sshPort: number): string {
  return renderLocalDefinition({
    stateDir: dir.path,
    bluePort: 1,
    greenPort,
    executor: "ssh",
    sshPort,
  }).replace(/^service: local-app$/m, `service: ${service}`);
}

beforeAll(async () => {
  let ports: number[];
  [bus, dir, sshd, ports] = await Promise.all([
    startBus(),
    makeTempDir("node-agent-ssh"),
    startSshd(),
    freePorts(2),
  ]);
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
  if (dir !== undefined && existsSync(dir.file("local-app-green")))
    await runCommand(process.execPath, [
      SAMPLE_APP_CTL,
      "stop",
      "--dir",
      dir.file("local-app-green"),
    ]);
  await sshd?.stop();
  await bus?.stop();
  await dir?.remove();
});

function deploy(service: string, deploymentId: string) {
  return publishStarted(bus, {
    service,
    deploymentId,
    data: {
      version: "v3.1",
      color: "green",
      nodes: [{ host: "127.0.0.1", port: greenPort }],
      activeColor: "blue",
    },
  });
}

describe("node agent, ssh executor", () => {
  it("given the example definition with executor ssh, when v3.1 is deployed, then it runs over SSH and the smoke checks pass", async () => {
    await deploy("local-app", "d-ssh-1");
    const events = await waitForOutcome(bus, "d-ssh-1", 45_000);
    // On failure, show what the node said (exit code, output tail), not only the event names.
    const failure = events.find((e) => e.type === "bluegreen.deploy.failed");
    expect(timeline(events), JSON.stringify(failure?.data)).toEqual([
      "deploy.started",
      "progress 1:started",
      "progress 1:succeeded",
      "progress 2:started",
      "progress 2:succeeded",
      "progress 3:started",
      "progress 3:succeeded",
      "deploy.ready",
      "smoke.passed",
    ]);
    expect(finalEvent(events, "smoke.passed").data.checks.every((c) => c.ok)).toBe(true);
    const health = await httpGet(`http://127.0.0.1:${greenPort}/health`);
    expect(JSON.parse(health?.body ?? "{}")).toMatchObject({ status: "healthy", version: "v3.1" });
    expect(readFileSync(dir.file("local-app-green", "VERSION"), "utf8").trim()).toBe("v3.1");
  });

  it("given a known-hosts entry with another key, then the node is refused before any command runs", async () => {
    await deploy("wrong-key", "d-ssh-wrong-key");
    const events = await waitForOutcome(bus, "d-ssh-wrong-key");
    expect(timeline(events)).toEqual(["deploy.started", "deploy.failed"]);
    const failed = finalEvent(events, "deploy.failed");
    expect(failed.data).toMatchObject({
      stage: "deploy",
      error: { code: "BG_ERR_SSH_HOST_KEY_MISMATCH", retryable: false },
    });
    expect(failed.data.error.message).toContain(`${sshd.host}:${sshd.port}`);
    expect(existsSync(dir.file("wrong-key-green"))).toBe(false);
  });

  it("given nothing answers on the node's SSH port, then the deploy fails as unreachable", async () => {
    await deploy("unreachable", "d-ssh-unreachable");
    const events = await waitForOutcome(bus, "d-ssh-unreachable");
    expect(timeline(events)).toEqual(["deploy.started", "deploy.failed"]);
    const failed = finalEvent(events, "deploy.failed");
    expect(failed.data.error).toMatchObject({ code: "BG_ERR_SSH_UNREACHABLE", retryable: true });
    expect(failed.data.error.message).toContain("connection refused");
    expect(existsSync(dir.file("unreachable-green"))).toBe(false);
  });
});
