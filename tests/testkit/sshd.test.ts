import {
  descendantPids,
  isProcessAlive,
  runCommand,
  type Sshd,
  startSshd,
} from "@bluegreen/testkit";
import { type Config, NodeSSH } from "node-ssh";
import { describe, expect, it } from "vitest";
import { startedForSuite } from "../suite.ts";

/** node-ssh's options for `server`'s user and client key, checking its host key. */
function connectTo(server: Sshd): Config {
  return {
    host: server.host,
    port: server.port,
    username: server.user,
    privateKeyPath: server.clientKeyPath,
    hostVerifier: (key: Buffer) => server.verifyHostKey(key),
  };
}

describe("startSshd", () => {
  let sshd: Sshd;
  startedForSuite(startSshd, (started) => {
    sshd = started;
  });

  it("exposes its host key as a known_hosts line", () => {
    expect(sshd.hostPublicKey).toMatch(/^ssh-ed25519 AAAA[\w+/=]+$/);
    expect(sshd.knownHostsLine).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}`);
    expect(sshd.clientPublicKey).toMatch(/^ssh-ed25519 AAAA/);
  });

  it("runs a command over SSH with node-ssh, checking the host key", async () => {
    const ssh = new NodeSSH();
    await ssh.connect(connectTo(sshd));
    try {
      const result = await ssh.execCommand("echo hello from $(whoami)");
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`hello from ${sshd.user}`);
    } finally {
      ssh.dispose();
    }
  });

  it("refuses a client that does not trust its host key", async () => {
    const ssh = new NodeSSH();
    await expect(ssh.connect({ ...connectTo(sshd), hostVerifier: () => false })).rejects.toThrow();
    ssh.dispose();
  });

  it("runs a command with the system ssh client and strict host key checking", async () => {
    const [ssh, ...args] = sshd.sshCommand;
    const result = await runCommand(ssh as string, [...args, "printf", "'%s'", "ok"]);
    expect(result).toMatchObject({ code: 0, stdout: "ok" });
  });

  it("leaves no process behind that a session started in the background", async () => {
    const other = await startSshd();
    const [ssh, ...args] = other.sshCommand;
    const result = await runCommand(ssh as string, [
      ...args,
      "sh -c 'sleep 30 >/dev/null 2>&1 & echo $!'",
    ]);
    expect(result.code).toBe(0);
    const orphan = Number(result.stdout.trim());
    expect(isProcessAlive(orphan)).toBe(true);
    await other.stop();
    expect(isProcessAlive(orphan)).toBe(false);
  });

  it("leaves no sshd or session process behind after stop()", async () => {
    const other = await startSshd();
    const ssh = new NodeSSH();
    await ssh.connect(connectTo(other));
    // The server going away resets the client's socket: ssh2 reports that as an
    // 'error' event, which would be uncaught without a listener (as the SSH
    // executor also listens for it).
    const clientErrors: string[] = [];
    ssh.connection?.on("error", (error: Error) => clientErrors.push(error.message));
    // A session still open when the server stops.
    const running = ssh.execCommand("sleep 30").catch(() => undefined);
    const { pid } = other.process;
    const sessions = await (async () => {
      for (let i = 0; i < 50; i++) {
        const found = descendantPids(pid);
        if (found.length >= 2) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return descendantPids(pid);
    })();
    expect(sessions.length).toBeGreaterThan(0);
    await other.stop();
    for (const p of [pid, ...sessions]) expect(isProcessAlive(p)).toBe(false);
    ssh.dispose();
    await running;
  });
});
