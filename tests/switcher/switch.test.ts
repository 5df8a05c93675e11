// The switcher over real processes: NATS, nginx (the example emily site), blue and green
// sample apps. Each test starts from what the previous one left, as an operator would.

import { readFile, stat, writeFile } from "node:fs/promises";
import { generationOfFile, renderUpstream } from "@bluegreen/switcher";
import { type AgentHandle, SwitcherRig } from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let rig: SwitcherRig;
let agent: AgentHandle;

beforeAll(async () => {
  rig = await SwitcherRig.start({ verifyTimeout: "1500ms" });
  agent = await rig.startAgent();
});

afterAll(async () => {
  await rig?.stop();
});

async function editSite(edit: (text: string) => string): Promise<() => Promise<void>> {
  const original = await readFile(rig.nginx.siteConfigPath, "utf8");
  await writeFile(rig.nginx.siteConfigPath, edit(original));
  return () => writeFile(rig.nginx.siteConfigPath, original);
}

async function metrics(): Promise<string> {
  const response = await fetch(`${agent.running.http.url}/metrics`);
  return response.text();
}

describe("switcher: switch.requested against a real nginx", () => {
  it("given blue serves, when nginx -t fails on a broken site config, then the file is restored, blue still serves and switch.failed carries nginx's message", async () => {
    const before = await rig.active();
    const reloads = rig.reloads();
    const fileBefore = await readFile(rig.upstreamFile, "utf8");
    const repair = await editSite((text) => `${text}\nbogus_directive on;\n`);
    try {
      const answer = await rig.switchTo("green", { reason: "promote" });
      expect(answer.type).toBe("bluegreen.switch.failed");
      if (answer.type !== "bluegreen.switch.failed") return;
      expect(answer.data).toMatchObject({
        to: "green",
        stage: "test",
        restored: true,
        activeColor: "blue",
        error: { code: "BG_ERR_SWITCH_NGINX_TEST_FAILED" },
      });
      expect(answer.data.output).toContain('unknown directive "bogus_directive"');
      expect(answer.data.error.message).toContain("bogus_directive");
    } finally {
      await repair();
    }
    expect(rig.fileColor()).toBe("blue");
    expect(await readFile(rig.upstreamFile, "utf8")).toBe(fileBefore);
    expect((await rig.throughNginx()).color).toBe("blue");
    expect(rig.reloads()).toBe(reloads);
    expect((await rig.active()).revision).toBe(before.revision);
    expect(await metrics()).toMatch(/^bluegreen_nginx_test_failures_total 1$/m);
  });

  it("given green is not ready, when a switch to green is requested, then it is refused before the file is touched", async () => {
    await rig.green.setFaults({ healthFail: true });
    const mtime = (await stat(rig.upstreamFile)).mtimeMs;
    const reloads = rig.reloads();
    try {
      const answer = await rig.switchTo("green", { reason: "promote" });
      expect(answer).toMatchObject({
        type: "bluegreen.switch.failed",
        data: {
          stage: "probe",
          restored: true,
          activeColor: "blue",
          error: { code: "BG_ERR_SWITCH_TARGET_NOT_READY", retryable: true },
        },
      });
      expect(answer.type === "bluegreen.switch.failed" && answer.data.error.message).toContain(
        "answered 503",
      );
    } finally {
      await rig.green.setFaults({ healthFail: false });
    }
    expect((await stat(rig.upstreamFile)).mtimeMs).toBe(mtime);
    expect(rig.reloads()).toBe(reloads);
    expect((await rig.throughNginx()).color).toBe("blue");
  });

  it("given the site pins /health to blue, when green is requested, then verification fails, the file is restored and reloaded, and blue still serves", async () => {
    const pinned = `proxy_pass http://${rig.blue.host}:${rig.blue.port}/health;`;
    const repair = await editSite((text) =>
      text.replace("proxy_pass http://emily_active/health;", pinned),
    );
    await rig.nginx.reload();
    try {
      const started = Date.now();
      const answer = await rig.switchTo("green", { reason: "promote" });
      expect(answer).toMatchObject({
        type: "bluegreen.switch.failed",
        data: {
          stage: "verify",
          restored: true,
          activeColor: "blue",
          error: { code: "BG_ERR_SWITCH_VERIFY_FAILED" },
        },
      });
      expect(answer.type === "bluegreen.switch.failed" && answer.data.output).toContain(
        "HTTP 200 from blue",
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    } finally {
      await repair();
      await rig.nginx.reload();
    }
    expect(rig.fileColor()).toBe("blue");
    // Everything else goes through the upstream: it is blue's again.
    expect((await rig.throughNginx("/api/v1/memory")).color).toBe("blue");
    expect((await rig.active()).record?.color).toBe("blue");
  });

  it("given blue serves, when green is requested with the current revision, then nginx serves green, the file says green, the record moved with compare-and-set and switch.done carries its timings", async () => {
    const before = await rig.active();
    const req = await rig.request(
      { to: "green", reason: "promote", expectedRevision: before.revision, version: "v1.1" },
      { deploymentId: "dep-1" },
    );
    const answer = await rig.answer(req.id);
    expect(answer.type).toBe("bluegreen.switch.done");
    if (answer.type !== "bluegreen.switch.done") return;
    expect(answer.deploymentid).toBe("dep-1");
    expect(answer.data).toMatchObject({
      from: "blue",
      to: "green",
      changed: true,
      reason: "promote",
      revision: before.revision + 1,
      version: "v1.1",
    });
    const timings = answer.data.timings;
    // The probe starts with the fence read and the verification with the reload, so their
    // share of the critical path can round to 0; the other steps always take time.
    for (const step of ["writeMs", "testMs", "reloadMs", "recordMs"] as const) {
      expect(timings[step], step).toBeGreaterThan(0);
    }
    for (const step of ["probeMs", "verifyMs"] as const) {
      expect(Number.isFinite(timings[step]), step).toBe(true);
    }
    // The steps run one after the other inside the switch: the total covers all six (each is
    // rounded on its own, hence the small slack); a missing step makes the sum NaN.
    const steps = ["probeMs", "writeMs", "testMs", "reloadMs", "verifyMs", "recordMs"] as const;
    const sum = steps.reduce((total, step) => total + (timings[step] ?? Number.NaN), 0);
    expect(timings.totalMs).toBeGreaterThanOrEqual(sum - 0.1);

    const onDisk = await readFile(rig.upstreamFile, "utf8");
    const generation = generationOfFile(onDisk, rig.def.traffic.upstream);
    expect(onDisk).toBe(renderUpstream(rig.def, "green", generation ?? "(none)"));
    // What a user sees: green answers, from an nginx worker that loaded that very file.
    expect(await rig.untilServes("green")).toEqual({
      status: 200,
      color: "green",
      upstream: rig.green.instance,
      generation,
    });
    const after = await rig.active();
    expect(after.revision).toBe(before.revision + 1);
    expect(after.record).toMatchObject({
      color: "green",
      version: "v1.1",
      reason: "promote",
      deploymentId: "dep-1",
      previous: { color: "blue", version: "v1.0" },
    });
  });

  it("when the same switch is requested again, then switch.done says changed:false and nginx is not reloaded", async () => {
    const reloads = rig.reloads();
    const { revision } = await rig.active();
    // A coordinator resending for the same deployment, with the fence it had then.
    const resend = await rig.switchTo("green", {
      deploymentId: "dep-1",
      reason: "promote",
      expectedRevision: revision - 1,
    });
    // Someone asking for what already serves, with the current fence.
    const again = await rig.switchTo("green", { expectedRevision: revision });
    for (const answer of [resend, again]) {
      expect(answer).toMatchObject({
        type: "bluegreen.switch.done",
        data: { from: "green", to: "green", changed: false, revision },
      });
      expect(
        answer.type === "bluegreen.switch.done" && answer.data.timings.reloadMs,
      ).toBeUndefined();
    }
    expect(rig.reloads()).toBe(reloads);
    expect((await rig.active()).revision).toBe(revision);
    expect((await rig.throughNginx()).color).toBe("green");
  });

  it("when a request carries a stale fence revision, then it is refused with a coded switch.failed and green keeps serving", async () => {
    const { revision } = await rig.active();
    const answer = await rig.switchTo("blue", {
      reason: "rollback",
      expectedRevision: revision - 1,
    });
    expect(answer).toMatchObject({
      type: "bluegreen.switch.failed",
      data: {
        stage: "fence",
        restored: true,
        activeColor: "green",
        error: { code: "BG_ERR_SWITCH_STALE_REVISION", retryable: false },
      },
    });
    expect(answer.type === "bluegreen.switch.failed" && answer.data.error.message).toContain(
      `expected active-colour revision ${revision - 1}, found ${revision}`,
    );
    expect((await rig.throughNginx()).color).toBe("green");
    expect((await rig.active()).revision).toBe(revision);
  });

  it("when a request arrives after its deadline, then it is refused (stage expired), nothing is reloaded and green keeps serving", async () => {
    const { revision } = await rig.active();
    const reloads = rig.reloads();
    const answer = await rig.switchTo("blue", {
      reason: "promote",
      expectedRevision: revision,
      deadline: new Date(Date.now() - 1_000).toISOString(),
    });
    expect(answer).toMatchObject({
      type: "bluegreen.switch.failed",
      data: {
        stage: "expired",
        restored: true,
        error: { code: "BG_ERR_SWITCH_EXPIRED", retryable: false },
      },
    });
    expect(rig.reloads()).toBe(reloads);
    expect((await rig.active()).revision).toBe(revision);
    expect((await rig.throughNginx()).color).toBe("green");
    // The same fence with a deadline still ahead goes through as ever.
    const later = await rig.switchTo("blue", {
      reason: "promote",
      expectedRevision: revision,
      deadline: new Date(Date.now() + 30_000).toISOString(),
    });
    expect(later.type).toBe("bluegreen.switch.done");
    await rig.untilServes("blue");
    const back = await rig.switchTo("green", { reason: "promote", expectedRevision: revision + 1 });
    expect(back.type).toBe("bluegreen.switch.done");
    await rig.untilServes("green");
  });

  it("when two coordinators ask for a switch with the same fence at once, then exactly one switch happens", async () => {
    const { revision } = await rig.active();
    const [a, b] = await Promise.all([
      rig.request(
        { to: "blue", reason: "rollback", expectedRevision: revision },
        { deploymentId: "dep-a" },
      ),
      rig.request(
        { to: "blue", reason: "rollback", expectedRevision: revision },
        { deploymentId: "dep-b" },
      ),
    ]);
    const answers = await Promise.all([rig.answer(a.id), rig.answer(b.id)]);
    const done = answers.filter((x) => x.type === "bluegreen.switch.done");
    const refused = answers.filter((x) => x.type === "bluegreen.switch.failed");
    expect(done).toHaveLength(1);
    expect(done[0]?.data).toMatchObject({
      changed: true,
      from: "green",
      to: "blue",
      revision: revision + 1,
    });
    expect(refused).toHaveLength(1);
    expect(refused[0]?.data).toMatchObject({
      stage: "fence",
      error: { code: "BG_ERR_SWITCH_STALE_REVISION" },
    });
    expect((await rig.active()).revision).toBe(revision + 1);
    await rig.untilServes("blue");
  });

  it("when switch.requested is malformed, then a coded agent.rejected answers it and the agent serves the next good request", async () => {
    await rig.publishRaw("{not json");
    const invalid = {
      specversion: "1.0",
      id: `bad-${Date.now()}`,
      source: "ci",
      type: "bluegreen.switch.requested",
      time: new Date().toISOString(),
      subject: "emily",
      data: { to: "purple", reason: "promote", expectedRevision: -1 },
    };
    await rig.publishRaw(JSON.stringify(invalid));

    const notJson = await rig.log.waitFor(
      "bluegreen.agent.rejected",
      (e) => e.data.code === "BG_ERR_EVENT_MALFORMED_JSON",
    );
    expect(notJson.data).toMatchObject({
      rejectedBy: "switcher/switcher-test",
      originalSubject: "bluegreen.emily.switch.requested",
      excerpt: "{not json",
    });
    const badData = await rig.log.waitFor(
      "bluegreen.agent.rejected",
      (e) => e.data.originalId === invalid.id,
    );
    expect(badData.data.code).toBe("BG_ERR_EVENT_INVALID");
    expect(badData.data.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(["data.to", "data.expectedRevision"]),
    );
    expect(rig.log.find("bluegreen.switch.failed", (e) => e.id.startsWith(invalid.id))).toEqual([]);

    const next = await rig.switchTo("green", { reason: "manual" });
    expect(next).toMatchObject({
      type: "bluegreen.switch.done",
      data: { changed: true, to: "green" },
    });
    await rig.untilServes("green");
  });

  it("serves /healthz, and /metrics with switches by result and the duration histogram", async () => {
    const health = await fetch(`${agent.running.http.url}/healthz`);
    expect(health.status).toBe(200);
    const text = await metrics();
    // Every answer of this file's tests, counted by result (the expired request: refused).
    expect(text).toMatch(/^bluegreen_switches_total\{result="changed"\} 5$/m);
    expect(text).toMatch(/^bluegreen_switches_total\{result="unchanged"\} 2$/m);
    expect(text).toMatch(/^bluegreen_switches_total\{result="refused"\} 4$/m);
    expect(text).toMatch(/^bluegreen_switches_total\{result="failed"\} 2$/m);
    expect(text).toMatch(/^bluegreen_switch_duration_seconds_count\{result="changed"\} 5$/m);
  });
});
