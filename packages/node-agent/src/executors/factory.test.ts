import { describe, expect, it } from "vitest";
import { stepBaseEnv } from "./factory.ts";

describe("stepBaseEnv: what a local step inherits of the agent's environment", () => {
  const agentEnv = {
    PATH: "/usr/bin",
    HOME: "/var/lib/bluegreen",
    NODE_OPTIONS: "--v8-pool-size=1",
    BG_SSH_PASSPHRASE: "s3cret",
  };

  it("everything but the SSH key's passphrase and the agent's own NODE_OPTIONS", () => {
    expect(stepBaseEnv(agentEnv, "BG_SSH_PASSPHRASE")).toEqual({
      PATH: "/usr/bin",
      HOME: "/var/lib/bluegreen",
    });
  });

  it("leaves the agent's environment itself as it was", () => {
    const env = { ...agentEnv };
    stepBaseEnv(env, "BG_SSH_PASSPHRASE");
    expect(env).toEqual(agentEnv);
  });

  it("keeps a variable that only looks like the passphrase's when none is configured", () => {
    expect(stepBaseEnv(agentEnv, undefined)).toMatchObject({ BG_SSH_PASSPHRASE: "s3cret" });
    expect(stepBaseEnv(agentEnv, undefined)).not.toHaveProperty("NODE_OPTIONS");
  });
});
