import { readFileSync } from "node:fs";
import { compileNodeAgentConfig } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";

const example = (name: string) =>
  readFileSync(new URL(`../../../examples/emily/${name}`, import.meta.url), "utf8");

describe("example node agent configs (examples/emily)", () => {
  it.each(["node-agent-blue.yaml", "node-agent-green.yaml", "node-agent-ssh.yaml"])(
    "%s compiles",
    (name) => {
      const config = compileNodeAgentConfig(example(name), { source: name });
      expect(config.role).toBe("node-agent");
      expect(config.serves.every((s) => s.service === "emily")).toBe(true);
    },
  );

  it("the SSH shape names a key, a passphrase variable and a known-hosts file", () => {
    const config = compileNodeAgentConfig(example("node-agent-ssh.yaml"));
    expect(config.ssh).toMatchObject({
      key_file: "/etc/bluegreen/deploy_ed25519",
      passphrase_env: "BLUEGREEN_SSH_PASSPHRASE",
      known_hosts_file: "/etc/bluegreen/known_hosts",
      connect_timeout: 10_000,
    });
  });
});
