// The operator's CLI over the whole stack, all real (nats-server, nginx, two sample-app nodes,
// the switcher, a node agent per colour, the monitor, the coordinator), one stack for the file:
// `status --watch`, `wait`, `deploy --until switched`, `--dry-run`, `freeze`, `rollback --to`,
// `retry`, `rollback`, `switch`, `history` and `tail --since`. Given blue serves v1.0 …

import { readFileSync } from "node:fs";
import { main } from "@bluegreen/cli";
import { Buckets, STREAM_NAME } from "@bluegreen/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eStack, startE2eStack } from "./stack.ts";

let stack: E2eStack;
const idOf = (stdout: string) => /deploying \S+ \S+ as (\S+)/.exec(stdout)?.[1] ?? "";
/** The order the phases of one deployment go through. */
const PHASE_ORDER = [
  "requested",
  "deploying",
  "readiness",
  "smoke",
  "switching",
  "monitoring",
  "succeeded",
];

beforeAll(async () => {
  stack = await startE2eStack({ window: "3s" });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

/** What the stream, the KV buckets and the upstream file hold now (to show nothing changed). */
async function world() {
  const jsm = await stack.base.nc.jetstreamManager();
  const lastSeq = (name: string) => jsm.streams.info(name).then((i) => i.state.last_seq);
  // the locks bucket also holds the leader lease, renewed all along: only the service's keys
  const locks = await stack.base.js.views.kv(Buckets.locks);
  const revision = async (key: string) => (await locks.get(key))?.revision ?? 0;
  return {
    stream: await lastSeq(STREAM_NAME),
    services: await lastSeq(`KV_${Buckets.services}`),
    active: await lastSeq(`KV_${Buckets.active}`),
    deployments: await lastSeq(`KV_${Buckets.deployments}`),
    lock: await revision(stack.service),
    freeze: await revision(`_freeze.${stack.service}`),
    upstream: readFileSync(stack.base.definition.traffic.file, "utf8"),
  };
}

let firstId = "";
let beforeFreeze = "";
let retriedId = "";

describe("given blue serves v1.0", () => {
  it("status --watch shows the phases in order; deploy --wait --timeout is exit 6; wait --until switched exits 0 at the switch, wait follows it to the end, then answers at once; an unknown id is exit 3", async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    const watching = main(
      ["status", stack.service, "--watch", "--server", stack.base.natsUrls.join(",")],
      { out: (l) => lines.push(l), err: (l) => lines.push(l), tty: false },
      { signal: stop.signal },
    );
    // the deploy steps alone take longer than a second: the CLI stops waiting, the deploy goes on
    const run = await stack.cli(["deploy", stack.service, "v1.1", "--wait", "--timeout", "1s"]);
    expect(run.code, run.stdout + run.stderr).toBe(6);
    expect(run.stderr).toMatch(/BG_ERR_CLI_TIMEOUT/);
    firstId = idOf(run.stdout);

    const switched = await stack.cli(["wait", firstId, "--until", "switched"]);
    expect(switched.code, switched.stdout + switched.stderr).toBe(0);
    // on a loaded machine the CLI may start after the switch: then it answers at once
    expect(switched.stdout).toMatch(/switch\.done|v1\.1 (monitoring|succeeded)$/m);
    expect(switched.stdout).not.toMatch(/deploy\.succeeded/);
    expect(await stack.served()).toMatchObject({ color: "green", version: "v1.1" });

    const waited = await stack.cli(["wait", firstId, "--timeout", "30s"]);
    expect(waited.code, waited.stdout + waited.stderr).toBe(0);
    expect(waited.stdout).toMatch(/deploy\.succeeded|v1\.1 succeeded$/m);

    const again = await stack.cli(["wait", firstId]);
    expect(again.code).toBe(0);
    expect(again.lines).toEqual([`${firstId}: ${stack.service} v1.1 succeeded`]);

    const unknown = await stack.cli(["wait", "d-20260101-nope00", "--timeout", "1s"]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/BG_ERR_DEPLOY_NOT_FOUND/);

    stop.abort();
    expect(await watching).toBe(0);
    const mine = lines.filter((l) => l.includes(firstId));
    const seen = mine
      .map((l) => PHASE_ORDER.find((p) => new RegExp(`${firstId} v1\\.1 ${p}\\b`).test(l)))
      .filter((p) => p !== undefined);
    const firstSeen = [...new Set(seen)];
    expect(firstSeen).toEqual(PHASE_ORDER.filter((p) => firstSeen.includes(p)));
    expect(firstSeen).toEqual(expect.arrayContaining(["deploying", "switching", "monitoring"]));
    expect(lines.join("\n")).toMatch(/green v1\.1/);
  }, 120_000);

  it("history lists the deployment with its outcome; status shows the agents serving it", async () => {
    const history = await stack.cli(["history", stack.service]);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(new RegExp(`${firstId}\\s+v1\\.1\\s+succeeded`));
    const json = await stack.cli(["history", stack.service, "--json", "--limit", "1"]);
    expect(JSON.parse(json.lines[0] ?? "{}")).toMatchObject({ deploymentId: firstId });
    const status = await stack.cli(["status", stack.service, "--json"]);
    const row = JSON.parse(status.lines[0] ?? "{}");
    expect(row).toMatchObject({ active: { color: "green", version: "v1.1" }, frozen: null });
    expect(row.agents).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^coordinator\//),
        expect.stringMatching(/^switcher\//),
        expect.stringMatching(/^monitor\//),
        expect.stringMatching(/^node-agent\//),
      ]),
    );
  }, 120_000);

  it("deploy --dry-run and apply --dry-run print the plan and the diff and change nothing", async () => {
    const before = await world();
    const plan = await stack.cli(["deploy", stack.service, "v1.2", "--dry-run"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    const blue = stack.base.definition.nodes.blue[0];
    const green = stack.base.definition.nodes.green[0];
    expect(plan.stdout).toMatch(/^target: blue/m);
    expect(plan.stdout).toMatch(/v1\.2/);
    expect(plan.stdout).toMatch(/^ {2}1\. \[/m);
    expect(plan.stdout).toMatch(/^smoke: /m);
    expect(plan.stdout).toContain(`-     server ${green?.host}:${green?.port};`);
    expect(plan.stdout).toContain(`+     server ${blue?.host}:${blue?.port};`);

    const changed = readFileSync(stack.base.definitionPath, "utf8").replace(
      /window: \S+/,
      "window: 5s",
    );
    const file = `${stack.base.dir}/changed.yaml`;
    (await import("node:fs")).writeFileSync(file, changed);
    const apply = await stack.cli(["apply", "-f", file, "--dry-run"]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/^ {2}- .*window: 3s/m);
    expect(apply.stdout).toMatch(/^ {2}\+ .*window: 5s/m);
    expect(await world()).toEqual(before);
  }, 120_000);

  it("a freeze rejects a deploy (exit 3, who, why, until when), lets rollback --to a version on neither colour through, and lapses at --until; retry then deploys it", async () => {
    beforeFreeze = new Date().toISOString();
    const frozen = await stack.cli([
      "freeze",
      stack.service,
      "--reason",
      "incident 4711",
      "--until",
      "10m",
    ]);
    expect(frozen.code, frozen.stderr).toBe(0);
    const until = /until (\S+):/.exec(frozen.stdout)?.[1] ?? "";
    const status = await stack.cli(["status", stack.service]);
    expect(status.stdout).toMatch(/frozen by \S+ until \S+: incident 4711/);

    const refused = await stack.cli(["deploy", stack.service, "v1.2", "--wait"]);
    expect(refused.code, refused.stdout + refused.stderr).toBe(3);
    expect(refused.stdout).toMatch(
      new RegExp(`BG_ERR_DEPLOY_FROZEN: service '${stack.service}' is frozen by \\S+ until`),
    );
    expect(refused.stdout).toContain(until);
    expect(refused.stdout).toContain("incident 4711");
    const refusedId = idOf(refused.stdout);

    // v0.9 runs on neither colour: blue has v1.0, green v1.1
    const back = await stack.cli(["rollback", stack.service, "--to", "v0.9", "--until", "done"]);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(back.stdout).toMatch(/deploy\.requested\s+v0\.9 .*\[rollback\]/);
    expect(await stack.served()).toMatchObject({ color: "blue", version: "v0.9" });
    const history = await stack.cli(["history", stack.service]);
    expect(history.stdout).toMatch(/v0\.9 \(rollback\)\s+succeeded/);

    // the same freeze again, lapsing in 2 s: once that passed, deploys go through again
    const short = await stack.cli([
      "freeze",
      stack.service,
      "--reason",
      "incident 4711",
      "--until",
      "2s",
    ]);
    expect(short.code, short.stderr).toBe(0);
    const lapses = /until (\S+):/.exec(short.stdout)?.[1] ?? "";
    const left = Date.parse(lapses) - Date.now();
    if (left > 0) await new Promise((r) => setTimeout(r, left + 100));
    expect((await stack.cli(["status", stack.service])).stdout).not.toMatch(/frozen/);
    const retried = await stack.cli(["retry", refusedId, "--wait", "--until", "switched"]);
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    retriedId = idOf(retried.stdout);
    expect(retried.stdout).toMatch(new RegExp(`\\[retry of ${refusedId}\\]`));
    expect(await stack.served()).toMatchObject({ color: "green", version: "v1.2" });
    const events = await stack.cli(["tail", "--service", stack.service, "--since", beforeFreeze]);
    expect(events.stdout).toMatch(/freeze\.set\s+\S+ frozen by \S+ until \S+ \(incident 4711\)/);
  }, 120_000);

  it("freeze --all and unfreeze --all: recorded as events, shown by status, lifted", async () => {
    const set = await stack.cli(["freeze", "--all", "--reason", "year end"]);
    expect(set.code, set.stderr).toBe(0);
    expect((await stack.cli(["status"])).stdout).toMatch(
      /frozen \(every service\) by \S+ until lifted: year end/,
    );
    const lifted = await stack.cli(["unfreeze", "--all", "--reason", "done"]);
    expect(lifted.stdout).toBe("every service: unfrozen\n");
    expect((await stack.cli(["status"])).stdout).not.toMatch(/frozen/);
    const tail = await stack.cli(["tail", "--since", "1m"]);
    expect(tail.stdout).toMatch(/freeze\.set\s+every service frozen/);
    expect(tail.stdout).toMatch(/freeze\.lifted\s+every service unfrozen/);
  }, 120_000);

  it("rollback (after success) puts the previous colour back; switch points traffic by hand", async () => {
    // the retry's watch window ends first (a rollback after success needs the lock)
    expect((await stack.cli(["wait", retriedId])).code).toBe(0);
    const back = await stack.cli(["rollback", stack.service, "--reason", "customer reports"]);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(await stack.served()).toMatchObject({ color: "blue", version: "v0.9" });
    const flipped = await stack.cli(["switch", stack.service, "green", "--reason", "by hand"]);
    expect(flipped.code, flipped.stdout + flipped.stderr).toBe(0);
    expect(await stack.served()).toMatchObject({ color: "green", version: "v1.2" });
  }, 90_000);

  it("tail --since leaves out what came before", async () => {
    const all = await stack.cli(["tail", "--service", stack.service, "--since", "1h"]);
    expect(all.stdout).toContain(firstId);
    const since = await stack.cli(["tail", "--service", stack.service, "--since", beforeFreeze]);
    expect(since.code).toBe(0);
    expect(since.stdout).not.toContain(firstId);
    expect(since.stdout).toMatch(/freeze\.set/);
    for (const line of since.lines) expect(line.slice(0, 24) >= beforeFreeze, line).toBe(true);
  }, 120_000);
});
