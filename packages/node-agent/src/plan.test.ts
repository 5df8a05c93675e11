import { BgError } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { commandText, displayCommand, planDeploy, stepBudget } from "./plan.ts";

const definition = {
  service: "emily",
  deploy: {
    executor: "agent" as const,
    workdir: "/opt/emily",
    steps: [
      ["git", "checkout", "${version}"],
      ["ctl", "start", "--color", "${color}", "--name", "${service}-${color}", "${unknown}"],
    ],
    env: { RELEASE: "r-${version}" },
    timeout: 600_000,
    step_timeout: undefined,
  },
};

const input = {
  definition,
  deploymentId: "d-1",
  version: "v1.1",
  color: "green" as const,
  node: { host: "127.0.0.1", port: 8001 },
};

describe("planDeploy", () => {
  it("substitutes placeholders inside argv elements only", () => {
    const plan = planDeploy(input);
    expect(plan.steps).toEqual([
      ["git", "checkout", "v1.1"],
      ["ctl", "start", "--color", "green", "--name", "emily-green", "${unknown}"],
    ]);
  });

  it("sets the BLUEGREEN_* variables and the definition's env", () => {
    expect(planDeploy(input).env).toEqual({
      RELEASE: "r-v1.1",
      BLUEGREEN_SERVICE: "emily",
      BLUEGREEN_VERSION: "v1.1",
      BLUEGREEN_COLOR: "green",
      BLUEGREEN_DEPLOYMENT_ID: "d-1",
      BLUEGREEN_NODE_HOST: "127.0.0.1",
      BLUEGREEN_NODE_PORT: "8001",
    });
  });

  it("uses the agent's workdir override", () => {
    expect(planDeploy({ ...input, workdirOverride: "/srv/emily" }).workdir).toBe("/srv/emily");
    expect(planDeploy(input).workdir).toBe("/opt/emily");
  });

  it.each(["v1; rm -rf /", "$(id)", "--upload-pack=evil", "../etc", "v1 v2", "`x`"])(
    "refuses the unsafe version %j with BG_ERR_VERSION_UNSAFE",
    (version) => {
      let error: unknown;
      try {
        planDeploy({ ...input, version });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BgError);
      expect((error as BgError).code).toBe("BG_ERR_VERSION_UNSAFE");
    },
  );
});

describe("stepBudget", () => {
  it("gives a step the overall budget left when no step timeout is set", () => {
    expect(stepBudget({ stepTimeoutMs: undefined }, 5_000)).toEqual({
      timeoutMs: 5_000,
      cutByDeadline: true,
    });
  });
  it("uses the step timeout when the deadline is further away", () => {
    expect(stepBudget({ stepTimeoutMs: 1_000 }, 5_000)).toEqual({
      timeoutMs: 1_000,
      cutByDeadline: false,
    });
  });
  it("caps the step timeout at the deadline", () => {
    expect(stepBudget({ stepTimeoutMs: 9_000 }, 5_000)).toEqual({
      timeoutMs: 5_000,
      cutByDeadline: true,
    });
    expect(stepBudget({ stepTimeoutMs: 9_000 }, -3)).toEqual({ timeoutMs: 0, cutByDeadline: true });
  });
});

describe("displayCommand", () => {
  it("keeps short commands as they are", () => {
    expect(displayCommand(["git", "checkout", "v1.1"])).toEqual(["git", "checkout", "v1.1"]);
    expect(commandText(["git", "checkout", "v1.1"])).toBe("git checkout v1.1");
  });
  it("bounds long elements and long commands", () => {
    const shown = displayCommand([
      "x".repeat(5000),
      ...Array.from({ length: 300 }, () => "y".repeat(100)),
    ]);
    expect(shown[0]).toHaveLength(256);
    expect(shown.join("").length).toBeLessThanOrEqual(2048 + 1);
    expect(shown.at(-1)).toBe("…");
  });
});
