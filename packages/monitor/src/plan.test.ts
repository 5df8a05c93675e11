import { compileServiceDefinition } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { onDeploymentEnded, onSwitchDone } from "./plan.ts";
import { newWatch, type WatchState } from "./watch-state.ts";

const def = compileServiceDefinition({
  service: "emily",
  nodes: { blue: { host: "127.0.0.1", port: 8001 }, green: { host: "127.0.0.1", port: 8002 } },
  deploy: { workdir: "/opt/emily", steps: [["true"]] },
  traffic: {
    upstream: "emily_active",
    file: "/tmp/emily.conf",
    verify: { url: "http://127.0.0.1/health" },
  },
  monitor: {
    source: { scrape: true },
    slos: [{ name: "errors", scrape: { errorRatio: {} }, max: 0.05 }],
  },
});

function watch(deploymentId: string, status: WatchState["status"] = "watching"): WatchState {
  const w = newWatch({
    service: "emily",
    deploymentId,
    color: "green",
    instances: ["127.0.0.1:8002"],
    monitor: def.monitor,
    now: 0,
    owner: "monitor/m1",
  });
  return { ...w, status };
}

const promote = (deploymentId?: string, changed = true) => ({
  deploymentId,
  to: "green" as const,
  reason: "promote" as const,
  changed,
});

describe("onSwitchDone", () => {
  it("starts a watch on a promotion", () => {
    expect(onSwitchDone(undefined, promote("d1"))).toEqual({ action: "start" });
  });

  it("starts the first watch of a deployment even when nothing changed", () => {
    expect(onSwitchDone(watch("d0", "passed"), promote("d1", false))).toEqual({ action: "start" });
  });

  it("supersedes the running watch of another deployment", () => {
    const running = watch("d1");
    expect(onSwitchDone(running, promote("d2"))).toEqual({ action: "start", supersede: running });
  });

  it("ignores a redelivered promotion and never restarts a finished watch", () => {
    expect(onSwitchDone(watch("d1"), promote("d1")).action).toBe("ignore");
    expect(onSwitchDone(watch("d1", "breached"), promote("d1", false)).action).toBe("ignore");
  });

  it("ignores a promotion without a deployment id", () => {
    expect(onSwitchDone(undefined, promote(undefined)).action).toBe("ignore");
  });

  it("stops the watch when traffic moves away from the watched colour", () => {
    const running = watch("d1");
    for (const reason of ["rollback", "manual"] as const) {
      expect(onSwitchDone(running, { to: "blue", reason, changed: true })).toEqual({
        action: "stop",
        watch: running,
        reason: "switched_away",
      });
    }
    expect(onSwitchDone(running, { to: "green", reason: "manual", changed: false }).action).toBe(
      "ignore",
    );
    expect(onSwitchDone(undefined, { to: "blue", reason: "rollback", changed: true }).action).toBe(
      "ignore",
    );
  });
});

describe("onDeploymentEnded", () => {
  it("stops the running watch of that deployment only", () => {
    const running = watch("d1");
    expect(onDeploymentEnded(running, "d1")).toEqual({
      action: "stop",
      watch: running,
      reason: "deployment_ended",
    });
    expect(onDeploymentEnded(running, "d2").action).toBe("ignore");
    expect(onDeploymentEnded(watch("d1", "passed"), "d1").action).toBe("ignore");
    expect(onDeploymentEnded(undefined, "d1").action).toBe("ignore");
  });
});
