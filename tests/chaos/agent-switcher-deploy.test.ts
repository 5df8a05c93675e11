// The switcher killed between writing the upstream file and reloading nginx, in a full
// deployment driven by `bluegreen deploy --wait` (the e2e stack: nats-server, nginx, the two
// sample-app nodes, the switcher, the node agents, the monitor, the coordinator). The stack's
// switcher is swapped for the same agent (same agent_id, so the same durable consumer) whose
// reload command is a script that marks and hangs; it is SIGKILLed at the mark and the stack's
// own switcher is started again from its config file, as systemd would restart it.

import { readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { Buckets } from "@bluegreen/contracts";
import { colorOfFile } from "@bluegreen/switcher";
import { respawnAgent, startAgent } from "@bluegreen/testkit";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type E2eStack, e2eStackForSuite } from "../e2e/stack.ts";
import { countByName, hangingReload, ownAgents } from "./switcher-kill.ts";

let stack: E2eStack;

e2eStackForSuite({ window: "3s" }, (started) => {
  stack = started;
});

const own = ownAgents("agent-switcher-deploy");

describe("given blue serves v1.0 and a switcher that will die before it reloads nginx", () => {
  it("when deploy v1.1 --wait runs, the switcher is SIGKILLed at its reload and restarted, then the redelivered switch completes the deployment: exit 0, green v1.1, one switch.done, lock released", async () => {
    expect(await stack.served()).toMatchObject({ color: "blue", version: "v1.0" });
    const upstreamFile = stack.base.definition.traffic.file;
    const original = stack.base.agents.find((a) => a.name.startsWith("switcher"));
    if (original === undefined) throw new Error("the stack has no switcher");
    const config = parse(readFileSync(original.configPath, "utf8")) as {
      nginx: Record<string, unknown>;
    };
    const reload = await hangingReload(own.work);
    await original.stop();
    const crashing = await startAgent("switcher", "switcher-crashing", own.work.path, {
      ...config,
      nginx: { ...config.nginx, reload_command: reload.command, command_timeout: "90s" },
    });
    own.agents.push(crashing);

    // When: the deployment reaches the switch, and the switcher dies about to reload.
    const id = `d-chaos-switcher-${process.pid}`;
    const run = stack.cli(
      ["deploy", stack.service, "v1.1", "--wait", "--timeout", "100s", "--id", id],
      120_000,
    );
    await reload.reached(60_000);
    await crashing.kill();

    // Then, at the crash: the green file is complete on disk, alone in its directory; nginx
    // still serves blue v1.0.
    expect(await readdir(dirname(upstreamFile))).toEqual([basename(upstreamFile)]);
    expect(colorOfFile(await readFile(upstreamFile, "utf8"), stack.base.definition).color).toBe(
      "green",
    );
    expect(await stack.served()).toMatchObject({ status: 200, color: "blue", version: "v1.0" });

    // When: the switcher is started again from its own config (the real reload command).
    own.agents.push(await respawnAgent("switcher", original));

    // Then: the drift is repaired, the redelivered request switches, and the deployment goes
    // on through the watch to its end.
    const result = await run;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const drift = stack.log.events.filter((e) => e.type === "bluegreen.switch.drift");
    expect(drift.map((e) => e.data)).toEqual([
      { file: upstreamFile, recorded: "blue", found: "green", action: "reapplied" },
    ]);
    const counts = countByName(await stack.events(id));
    expect(counts).toMatchObject({
      "switch.requested": 1,
      "switch.done": 1,
      "monitor.passed": 1,
      "deploy.succeeded": 1,
    });
    expect(counts["switch.failed"]).toBeUndefined();
    expect(counts["deploy.failed"]).toBeUndefined();
    expect(await stack.served()).toMatchObject({ status: 200, color: "green", version: "v1.1" });
    const active = await (await stack.base.js.views.kv(Buckets.active)).get(stack.service);
    expect(JSON.parse(new TextDecoder().decode(active?.value))).toMatchObject({
      color: "green",
      version: "v1.1",
      deploymentId: id,
    });
    expect(colorOfFile(await readFile(upstreamFile, "utf8"), stack.base.definition).color).toBe(
      "green",
    );
    expect(await readdir(dirname(upstreamFile))).toEqual([basename(upstreamFile)]);
    expect((await stack.lock())?.releasedAt).toBeDefined();
  }, 150_000);
});
