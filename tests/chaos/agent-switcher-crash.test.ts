// The switcher killed (SIGKILL) between writing the upstream file and reloading nginx. The
// window is made deterministic by the switcher's own setting: its `nginx.reload_command` is a
// script the test writes, which marks that the switch got there and then hangs; the switcher
// (its bin, a real process) is killed when the mark appears. Then it is started again with the
// real reload command and the default `on_drift`, and JetStream redelivers the request it never
// acknowledged. Reuses the switcher suites' rig (nats-server, nginx with the example site, two
// sample apps, the definition and the record in KV, the stream log).

import { readdir, readFile } from "node:fs/promises";
import { STREAM_NAME } from "@bluegreen/contracts";
import { colorOfFile, generationOfFile, renderUpstream } from "@bluegreen/switcher";
import {
  type AgentProcess,
  agentConfig,
  processGroupMembers,
  RIG_SERVICE as SERVICE,
  SwitcherRig,
  startAgent,
  waitFor,
} from "@bluegreen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hangingReload, ownAgents } from "./switcher-kill.ts";

const AGENT_ID = "switcher-crash";
/** The switcher's consumer redelivers an unacknowledged request after its ack wait (10 s). */
const REDELIVERY_MS = 10_000;

let rig: SwitcherRig;

/** Starts the switcher bin under AGENT_ID (one durable consumer) with the given reload argv. */
async function startSwitcher(
  name: string,
  reloadCommand: readonly string[],
): Promise<AgentProcess> {
  const agent = await startAgent(
    "switcher",
    name,
    own.work.path,
    agentConfig("switcher", AGENT_ID, rig.nats.url, {
      services: [SERVICE],
      nginx: {
        test_command: [...rig.nginx.testCommand],
        reload_command: [...reloadCommand],
        command_timeout: "90s",
      },
      // on_drift is left out: the default (reapply) is what is tested.
    }),
  );
  own.agents.push(agent);
  return agent;
}

/** The file is exactly what the switcher renders for one colour (whatever its generation). */
function completeRenderingOf(content: string): string | null {
  const found = colorOfFile(content, rig.def).color;
  if (found === null) return null;
  const generation = generationOfFile(content, rig.def.traffic.upstream);
  if (generation === undefined) return null;
  return content === renderUpstream(rig.def, found, generation) ? found : null;
}

beforeAll(async () => {
  rig = await SwitcherRig.start();
}, 60_000);

afterAll(async () => {
  await rig?.stop();
}, 60_000);

const own = ownAgents("agent-switcher-crash");

describe("switcher killed between writing the upstream file and reloading nginx", () => {
  it("given blue serves and the reload hangs, when the switcher is SIGKILLed there and started again, then the record is re-applied and the redelivered request switches to green exactly once", async () => {
    // Given: blue serves, recorded at revision 1; the reload command marks and hangs.
    await rig.untilServes("blue");
    const before = await rig.active();
    expect(before.record?.color).toBe("blue");
    const reload = await hangingReload(own.work);
    const crashing = await startSwitcher("switcher-crashing", reload.command);
    const reloadsBefore = rig.reloads();

    // When: a promotion to green arrives, and the switcher dies once it is about to reload.
    const request = await rig.request(
      { to: "green", reason: "promote", expectedRevision: before.revision, version: "v1.1" },
      { deploymentId: "d-crash-1" },
    );
    await reload.reached(20_000);
    await crashing.kill();
    expect(crashing.process.exitInfo?.signal).toBe("SIGKILL");
    expect(processGroupMembers(crashing.process.pid)).toEqual([]); // the hung reload died too

    // Then, at the moment of the crash: the green file is complete on disk, no temp file is
    // left, nginx was never reloaded and still serves blue, the record did not move, and the
    // request has no answer.
    const upstreamDir = await readdir(rig.dir.path);
    expect(upstreamDir).toEqual(["emily-active.conf"]);
    expect(completeRenderingOf(await readFile(rig.upstreamFile, "utf8"))).toBe("green");
    expect(rig.reloads()).toBe(reloadsBefore);
    await rig.untilServes("blue");
    expect(await rig.active()).toEqual(before);
    const answersTo = (id: string) =>
      rig.log.events.filter(
        (e) =>
          (e.type === "bluegreen.switch.done" || e.type === "bluegreen.switch.failed") &&
          (e.id === `${id}.done` || e.id === `${id}.failed`),
      );
    expect(answersTo(request.id)).toEqual([]);

    // When: the switcher starts again with the real reload command.
    const restartedAt = Date.now();
    await startSwitcher("switcher-restarted", rig.nginx.reloadCommand);

    // Then: the start-up drift check re-applies the record (default on_drift: reapply), so
    // file, record and nginx agree on blue before any request is taken.
    const drift = await rig.log.waitFor(
      "bluegreen.switch.drift",
      (e) => Date.parse(e.time) >= restartedAt - 1_000,
      20_000,
    );
    expect(drift.data).toEqual({
      file: rig.upstreamFile,
      recorded: "blue",
      found: "green",
      action: "reapplied",
    });

    // And: JetStream redelivers the unacknowledged request; it is carried out once.
    const answer = await rig.answer(request.id, REDELIVERY_MS + 30_000);
    expect(answer.type).toBe("bluegreen.switch.done");
    expect(answer.deploymentid).toBe("d-crash-1");
    expect(answer.data).toMatchObject({
      from: "blue",
      to: "green",
      changed: true,
      revision: before.revision + 1,
    });
    // The drift check (blue) ran before the redelivered request (green) was taken.
    expect(Date.parse(drift.time)).toBeLessThanOrEqual(Date.parse(answer.time));

    // The final state: file, record and nginx all say green, and nothing is left to redeliver.
    await rig.untilServes("green");
    expect(await rig.active()).toMatchObject({
      revision: before.revision + 1,
      record: { color: "green", version: "v1.1", deploymentId: "d-crash-1", reason: "promote" },
    });
    expect(completeRenderingOf(await readFile(rig.upstreamFile, "utf8"))).toBe("green");
    expect(await readdir(rig.dir.path)).toEqual(["emily-active.conf"]);
    const jsm = await rig.nc.jetstreamManager();
    await waitFor(
      async () => {
        const consumers = await jsm.consumers.list(STREAM_NAME).next();
        const ours = consumers.filter((c) => c.name.startsWith(`switcher-${AGENT_ID}--`));
        return ours.length > 0 && ours.every((c) => c.num_pending + c.num_ack_pending === 0)
          ? ours
          : undefined;
      },
      { what: "the switcher's consumer to be drained", timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(answersTo(request.id).map((e) => e.type)).toEqual(["bluegreen.switch.done"]);
    expect(rig.log.find("bluegreen.switch.done")).toHaveLength(1);
    expect(rig.log.find("bluegreen.switch.failed")).toHaveLength(0);
  }, 90_000);
});
