// Start-up drift (the upstream file and the recorded active colour disagree), handled each
// way the `on_drift` setting allows; and the agent as a real process (bin, SIGTERM).

import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { AnyBgEvent } from "@bluegreen/contracts";
import { renderUpstream } from "@bluegreen/switcher";
import { type ManagedProcess, SwitcherRig, spawnProcess } from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";

const BIN = fileURLToPath(
  new URL("../../packages/switcher/bin/bluegreen-switcher.js", import.meta.url),
);

let rig: SwitcherRig;

beforeAll(async () => {
  rig = await SwitcherRig.start();
});

afterAll(async () => {
  await rig?.stop();
});

type DriftEvent = Extract<AnyBgEvent, { type: "bluegreen.switch.drift" }>;
type Switcher = Awaited<ReturnType<SwitcherRig["startAgent"]>>;

/**
 * Starts a switcher with `on_drift: onDrift`, waits for its drift event with `action`, and runs
 * `then` on it before the switcher stops.
 */
async function afterDrift(
  onDrift: "reapply" | "adopt" | "report",
  action: string,
  then: (drift: DriftEvent, agent: Switcher) => Promise<void>,
): Promise<void> {
  const agent = await rig.startAgent({ on_drift: onDrift });
  try {
    const drift = await rig.log.waitFor("bluegreen.switch.drift", (e) => e.data.action === action);
    await then(drift, agent);
  } finally {
    await agent.stop();
  }
}

describe("switcher: drift at start-up", () => {
  it("given the record says blue but the file was switched to green by hand, when the switcher starts with on_drift: reapply, then it re-applies blue and reports the drift", async () => {
    await rig.handSwitch("green");
    await rig.untilServes("green");
    const before = await rig.active();

    await afterDrift("reapply", "reapplied", async (drift, agent) => {
      expect(drift.data).toEqual({
        file: rig.upstreamFile,
        recorded: "blue",
        found: "green",
        action: "reapplied",
      });
      expect(rig.fileColor()).toBe("blue");
      await rig.untilServes("blue");
      expect(await rig.active()).toEqual(before);
      expect(agent.logs).toContainEqual(
        expect.objectContaining({
          level: "warn",
          msg: "drift: re-applied the record",
          recorded: "blue",
          found: "green",
        }),
      );
    });
  });

  it("given the file was edited to green and never reloaded, when the switcher starts with on_drift: adopt, then nginx serves the file and the record takes its colour", async () => {
    await writeFile(rig.upstreamFile, renderUpstream(rig.def, "green", "edited-by-hand"));
    expect((await rig.throughNginx()).color).toBe("blue");
    const before = await rig.active();

    await afterDrift("adopt", "adopted", async (drift) => {
      expect(drift.data).toMatchObject({ recorded: "blue", found: "green" });
      const after = await rig.active();
      expect(after.revision).toBe(before.revision + 1);
      expect(after.record).toMatchObject({
        color: "green",
        reason: "adopted",
        previous: { color: "blue", version: "v1.0" },
      });
      expect(rig.fileColor()).toBe("green");
      expect((await rig.untilServes("green")).generation).toBe("edited-by-hand");
    });
  });

  it("given the file was switched back to blue by hand, when the switcher starts with on_drift: report, then it only reports", async () => {
    await rig.handSwitch("blue");
    await rig.untilServes("blue");
    const before = await rig.active();
    const reloads = rig.reloads();

    await afterDrift("report", "reported", async (drift, agent) => {
      expect(drift.data).toMatchObject({ recorded: "green", found: "blue" });
      expect(agent.logs).toContainEqual(
        expect.objectContaining({ level: "warn", msg: "drift: upstream file and record differ" }),
      );
      expect(await rig.active()).toEqual(before);
      expect(rig.fileColor()).toBe("blue");
      expect(rig.reloads()).toBe(reloads);
      expect((await rig.throughNginx()).color).toBe("blue");
    });
  });
});

describe("switcher: drift while running", () => {
  const running = (e: DriftEvent) => e.data.while === "running";
  const metric = async (agent: Switcher, series: string) => {
    const text = await (await fetch(`${agent.running.http.url}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  };

  it("given a running switcher with on_drift: reapply, when the file is switched by hand, then the drift is reported within 5 s (event, metric, log) and repaired; its own switch is never taken for drift", async () => {
    // Given: the switcher runs (its start-up check repairs what the report case left).
    const agent = await rig.startAgent({ on_drift: "reapply", drift_interval: "1s" });
    try {
      const { record } = await rig.active();
      const recorded = record?.color === "blue" ? "blue" : "green";
      const other = recorded === "blue" ? "green" : "blue";
      await rig.untilServes(recorded, 10, 15_000);
      const seen = rig.log.find("bluegreen.switch.drift", running).length;

      // A switch the coordinator asked for, then a full period and more: no drift.
      const { revision } = await rig.active();
      const answer = await rig.switchTo(other, { expectedRevision: revision });
      expect(answer.type).toBe("bluegreen.switch.done");
      await rig.untilServes(other);
      await new Promise((r) => setTimeout(r, 2_500));
      expect(rig.log.find("bluegreen.switch.drift", running)).toHaveLength(seen);

      // When: an operator points nginx back by hand, while the switcher runs.
      const editedAt = Date.now();
      await rig.handSwitch(recorded);
      const drift = await rig.log.waitFor(
        "bluegreen.switch.drift",
        (e) => running(e) && e.data.action === "reapplied",
        5_000,
      );
      expect(Date.now() - editedAt).toBeLessThan(5_000);
      expect(drift.data).toEqual({
        file: rig.upstreamFile,
        recorded: other,
        found: recorded,
        action: "reapplied",
        while: "running",
      });
      expect(rig.fileColor()).toBe(other);
      await rig.untilServes(other);
      expect(
        await metric(agent, 'bluegreen_switch_drift_total{action="reapplied",while="running"}'),
      ).toBe(1);
      expect(agent.logs).toContainEqual(
        expect.objectContaining({ level: "warn", msg: "drift: re-applied the record" }),
      );
    } finally {
      await agent.stop();
    }
  });

  it("given a running switcher with on_drift: reapply, when nginx is reloaded with a hand-edited file that is then put back, then the drift is found (in the file, or in what nginx serves) and repaired", async () => {
    const agent = await rig.startAgent({ on_drift: "reapply", drift_interval: "1s" });
    try {
      const { record } = await rig.active();
      const recorded = record?.color === "blue" ? "blue" : "green";
      const other = recorded === "blue" ? "green" : "blue";
      await rig.untilServes(recorded);
      const kept = await readFile(rig.upstreamFile, "utf8");
      // nginx loads the other colour; the file goes back to what it said, without a reload.
      await writeFile(rig.upstreamFile, renderUpstream(rig.def, other, "hand-edit"));
      await rig.nginx.reload();
      await writeFile(rig.upstreamFile, kept);
      // The watch may catch the file while it says the other colour (then that is the drift),
      // or only once it is back (then what nginx serves is): repaired either way. A repair
      // that reloads while the file is being put back may see it half written and fail
      // (reported, previous file restored): the next check repairs it.
      const drift = await rig.log.waitFor(
        "bluegreen.switch.drift",
        (e) =>
          running(e) &&
          e.data.action === "reapplied" &&
          (e.data.served === other || e.data.found === other),
        10_000,
      );
      expect(drift.data).toMatchObject({ recorded });
      await rig.untilServes(recorded, 10, 15_000);
      expect(rig.fileColor()).toBe(recorded);
    } finally {
      await agent.stop();
    }
  });

  it("given a running switcher with on_drift: adopt, when the file is switched by hand, then the record takes its colour within 5 s", async () => {
    const agent = await rig.startAgent({ on_drift: "adopt", drift_interval: "1s" });
    try {
      const before = await rig.active();
      const recorded = before.record?.color === "blue" ? "blue" : "green";
      const other = recorded === "blue" ? "green" : "blue";
      await rig.handSwitch(other);
      const drift = await rig.log.waitFor(
        "bluegreen.switch.drift",
        (e) => running(e) && e.data.action === "adopted",
        5_000,
      );
      expect(drift.data).toMatchObject({ recorded, found: other, while: "running" });
      const after = await rig.active();
      expect(after.revision).toBe(before.revision + 1);
      expect(after.record).toMatchObject({ color: other, reason: "adopted" });
      await rig.untilServes(other);
    } finally {
      await agent.stop();
    }
  });
});

describe("switcher: the agent process", () => {
  it("starts from its bin with --config, repairs drift, answers a switch, and exits 0 on SIGTERM", async () => {
    // Given: the file says the colour the record does not (a hand switch while no switcher ran).
    const recorded = (await rig.active()).record?.color === "blue" ? "blue" : "green";
    const other = recorded === "blue" ? "green" : "blue";
    await rig.handSwitch(other);
    const configPath = rig.dir.file("switcher.yaml");
    await writeFile(
      configPath,
      stringify({
        role: "switcher",
        agent_id: "switcher-bin",
        nats: { servers: [rig.nats.url] },
        services: ["*"],
        nginx: {
          test_command: [...rig.nginx.testCommand],
          reload_command: [...rig.nginx.reloadCommand],
        },
        on_drift: "reapply",
      }),
    );
    const proc: ManagedProcess = await spawnProcess({
      name: "bluegreen-switcher",
      command: process.execPath,
      args: [BIN, "--config", configPath],
    });
    try {
      await proc.waitForLine((line) => line.includes('"to":"running"'), {
        what: "the switcher to be running",
        timeoutMs: 20_000,
      });
      // The file said the other colour: re-applied at start.
      expect(rig.fileColor()).toBe(recorded);
      // A rollback names no version: it takes the one the record says ran on that colour.
      const current = (await rig.active()).record;
      const version = current?.previous?.color === other ? current.previous.version : null;
      const answer = await rig.switchTo(other, { reason: "rollback" });
      expect(answer).toMatchObject({
        type: "bluegreen.switch.done",
        source: "bluegreen/switcher/switcher-bin",
        data: { from: recorded, to: other, changed: true },
      });
      await rig.untilServes(other);
      expect((await rig.active()).record).toMatchObject({
        color: other,
        reason: "rollback",
        version,
      });
    } finally {
      proc.signal("SIGTERM", { group: false });
    }
    const exit = await proc.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const lines = proc.output.lastLines(200).split("\n");
    expect(lines.some((l) => l.includes('"to":"stopped"'))).toBe(true);
    expect(lines.filter((l) => l.trim() !== "").every((l) => l.startsWith("{"))).toBe(true);
    await proc.stop();
  });
});
