import { describe, expect, it } from "vitest";
import { agentV8Flags } from "./agent-v8-flags.ts";

describe("the V8 flags the executable sets for itself", () => {
  it("keeps an agent's young generation small and its optimizing compiler off", () => {
    expect(agentV8Flags(["agent", "switcher", "--config", "s.yaml"], {})).toEqual([
      "--semi-space-growth-factor=1",
      "--no-turbofan",
    ]);
  });

  it("keeps TurboFan when the agent's environment asks for it", () => {
    expect(agentV8Flags(["agent", "coordinator"], { BLUEGREEN_AGENT_TURBOFAN: "1" })).toEqual([
      "--semi-space-growth-factor=1",
    ]);
    expect(agentV8Flags(["agent", "coordinator"], { BLUEGREEN_AGENT_TURBOFAN: "0" })).toContain(
      "--no-turbofan",
    );
  });

  it("leaves the CLI and --version with V8's defaults", () => {
    expect(agentV8Flags(["status"], {})).toEqual([]);
    expect(agentV8Flags(["--version"], {})).toEqual([]);
    expect(agentV8Flags([], { BLUEGREEN_AGENT_TURBOFAN: "1" })).toEqual([]);
  });
});
