// The `bluegreen` CLI as CI and operators run it, over a real nats-server and a real
// coordinator (the other agents simulated by `SimAgents`): typos in a definition, a deployment
// id repeated (by the CLI and by a raw NATS client), `tail --json` over a malformed message,
// `requestedBy` on CI, `--version`, an unknown service, the cause of a rollback in `history`.

import { readFileSync, writeFileSync } from "node:fs";
import { type AnyBgEvent, Buckets, parseEvent, STREAM_NAME } from "@bluegreen/contracts";
import {
  type AgentProcess,
  bluegreen,
  coordinatorConfig,
  makeTempDir,
  type NatsServer,
  REPO_ROOT,
  runCommand,
  SimAgents,
  sourceArgs,
  startAgent,
  startNats,
  type TempDir,
  waitFor,
} from "@bluegreen/testkit";
import { connect, type KV, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SERVICE = "cart";
/** Block style, so each typo below lands on a line of its own. */
const DEFINITION = `service: cart
nodes:
  blue: { host: 127.0.0.1, port: 18101 }
  green: { host: 127.0.0.1, port: 18102 }
deploy:
  workdir: /srv/cart
  steps:
    - [sample-app-ctl, set-version, "\${version}"]
  timeout: 10s
readiness:
  timeout: 5s
smoke:
  - name: health
    request: { path: /health }
    timeout: 2s
traffic:
  upstream: cart_active
  file: /tmp/cart-active.conf
  verify: { url: "http://127.0.0.1:18100/health" }
  switch_timeout: 5s
monitor:
  window: 2s
  interval: 1s
  source: { scrape: true }
  slos: [{ name: error-ratio, scrape: { errorRatio: {} }, max: 0.05 }]
`;

let nats: NatsServer;
let tmp: TempDir;
let nc: NatsConnection;
let sim: SimAgents;
let coordinator: AgentProcess;
let services: KV;
let deployments: KV;

const cli = (args: string[], env?: Record<string, string>) =>
  bluegreen(nats.url, args, env === undefined ? {} : { env });
/** `bluegreen deploy <service> <version> --wait --id <id> --timeout 30s`. */
const deployWait = (version: string, id: string, service = SERVICE) =>
  cli(["deploy", service, version, "--wait", "--id", id, "--timeout", "30s"]);
/** Not on any CI: the fallback `user@host` (whatever runs this suite). */
const NO_CI = { GITHUB_ACTIONS: "", GITLAB_CI: "" };

/** Every event of the service in the stream (valid ones), in order. */
async function streamOf(service = SERVICE): Promise<AnyBgEvent[]> {
  const out: AnyBgEvent[] = [];
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(STREAM_NAME);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(STREAM_NAME, { seq }).catch(() => undefined);
    if (msg === undefined || !msg.subject.startsWith(`bluegreen.${service}.`)) continue;
    const parsed = parseEvent(msg.data);
    if (parsed.ok) out.push(parsed.event as AnyBgEvent);
  }
  return out;
}
const dataOf = (e: AnyBgEvent | undefined) => (e?.data ?? {}) as Record<string, unknown>;
const ofDeployment = async (id: string, type?: string) =>
  (await streamOf()).filter(
    (e) => e.deploymentid === id && (type === undefined || e.type === `bluegreen.${type}`),
  );

beforeAll(async () => {
  nats = await startNats({ jetstream: true });
  tmp = await makeTempDir("cli");
  coordinator = await startAgent(
    "coordinator",
    "coordinator-1",
    tmp.path,
    coordinatorConfig(nats.url, "coordinator-1", { require_heartbeats: false }),
  );
  nc = await connect({ servers: nats.url });
  sim = await new SimAgents(nc).start();
  const js = nc.jetstream();
  deployments = await js.views.kv(Buckets.deployments);
  services = await js.views.kv(Buckets.services);
  writeFileSync(tmp.file("cart.yaml"), DEFINITION);
  const applied = await cli(["apply", "-f", tmp.file("cart.yaml")]);
  expect(applied.code, applied.stderr).toBe(0);
  await sim.seedActive(SERVICE, {
    color: "blue",
    version: "v1.0",
    switchedAt: new Date().toISOString(),
    reason: "adopted",
  });
});

afterAll(async () => {
  await sim?.stop();
  await nc?.drain();
  await coordinator?.stop();
  await nats?.stop();
  await tmp?.remove();
});

describe("a typo never switches a safety check off", () => {
  const typos: [string, string, string, string, number][] = [
    [
      "top level",
      "smoke:",
      "smoek:",
      "smoek: `smoek` is not a field of a service definition; did you mean `smoke`?",
      12,
    ],
    [
      "nested",
      "  timeout: 5s",
      "  timout: 5s",
      "readiness.timout: `timout` is not a field of `readiness` in a service definition; did you mean `timeout`?",
      11,
    ],
    [
      "in a list item",
      "    timeout: 2s",
      "    timeot: 2s",
      "smoke.0.timeot: `timeot` is not a field of `smoke[0]` in a service definition; did you mean `timeout`?",
      15,
    ],
  ];
  it("config check and apply exit 3 with path, line and suggestion; nothing is stored", async () => {
    const before = await services.get(SERVICE);
    const runs = typos.flatMap(([name, good, bad, message, line]) => {
      expect(DEFINITION).toContain(good);
      const file = tmp.file(`typo-${name.replaceAll(" ", "-")}.yaml`);
      writeFileSync(file, DEFINITION.replace(good, bad));
      return [
        ["config", "check", file],
        ["apply", "-f", file],
      ].map(async (args) => ({ args, message, line, run: await cli(args) }));
    });
    for (const { args, message, line, run } of await Promise.all(runs)) {
      expect(run.code, `${args.join(" ")}: ${run.stdout}${run.stderr}`).toBe(3);
      expect(run.stderr).toContain("BG_ERR_CONFIG_UNKNOWN_FIELD");
      expect(run.stderr).toContain(`${message} (line ${line})`);
    }
    const after = await services.get(SERVICE);
    expect(after?.revision).toBe(before?.revision);
  });
});

describe("a deployment id runs once, for ever", () => {
  it("repeated after success (CLI): exit 0 at once from the stored deployment, never run twice", async () => {
    const first = await deployWait("v1.1", "ci-1");
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const again = await deployWait("v1.1", "ci-1");
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain("deployment ci-1 (v1.1) already ended: succeeded");
    expect(await ofDeployment("ci-1", "deploy.requested")).toHaveLength(1);
    expect(await ofDeployment("ci-1", "deploy.started")).toHaveLength(1);
  });

  it("repeated by a raw NATS client past the duplicate window: answered with its outcome again", async () => {
    const [request] = await ofDeployment("ci-1", "deploy.requested");
    expect(request).toBeDefined();
    // The same event under another message id: what the stream stores once its window passed.
    await nc.jetstream().publish(`bluegreen.${SERVICE}.deploy.requested`, JSON.stringify(request), {
      msgID: `${request?.id}-after-the-window`,
    });
    const answer = await waitFor(
      async () =>
        (await ofDeployment("ci-1", "deploy.succeeded")).find((e) => e.id.includes(".again-")),
      { what: "the outcome answered again", timeoutMs: 10_000 },
    );
    const [original] = await ofDeployment("ci-1", "deploy.succeeded");
    expect(answer.data).toEqual(original?.data);
    expect(answer.id).toMatch(/^ci-1\.again-\d+\.deploy\.succeeded$/);
    expect(await ofDeployment("ci-1", "deploy.started")).toHaveLength(1);
    // Not dropped silently: the coordinator says what it did.
    expect(coordinator.lines.some((l) => l.includes("answered again"))).toBe(true);
  });

  it("repeated after a rollback: exit 5 at once", async () => {
    const first = await deployWait("v1.2-breach", "ci-2");
    expect(first.code, first.stdout + first.stderr).toBe(5);
    const again = await cli(["deploy", SERVICE, "v1.2-breach", "--wait", "--id", "ci-2"]);
    expect(again.code).toBe(5);
    // At once: from the stored deployment, without asking again.
    expect(again.stdout).toContain("deployment ci-2 (v1.2-breach) already ended: rolled_back");
    expect(await ofDeployment("ci-2", "deploy.requested")).toHaveLength(1);
    expect(await ofDeployment("ci-2", "deploy.started")).toHaveLength(1);
  });

  it("history shows why it rolled back: the SLO, its value and threshold", async () => {
    const history = await cli(["history", SERVICE]);
    expect(history.code).toBe(0);
    const row = history.lines.find((l) => l.startsWith("ci-2"));
    expect(row).toMatch(/rolled_back .*SLO breached: error-ratio 0\.5 > 0\.05; back to green/);
  });

  it("repeated while it runs: followed, not run twice; a raw repeat is told it is in progress; an id only rejected deploys again", async () => {
    const gated = await cli(["deploy", SERVICE, "v1.3", "--manual", "--id", "ci-3"]);
    expect(gated.code).toBe(0);
    await waitFor(
      async () => {
        const entry = await deployments.get(`${SERVICE}.ci-3`);
        return entry !== null &&
          JSON.parse(new TextDecoder().decode(entry.value)).phase === "awaiting_promotion"
          ? true
          : undefined;
      },
      { what: "ci-3 at its gate", timeoutMs: 15_000 },
    );
    // Busy: ci-4 is rejected ...
    const busy = await deployWait("v1.4", "ci-4");
    expect(busy.code).toBe(3);
    expect(busy.stdout).toContain("BG_ERR_DEPLOY_BUSY");
    // ... the CLI repeating ci-3 follows it (once it has read the stored deployment) ...
    let following: () => void = () => {};
    const read = new Promise<void>((resolve) => {
      following = resolve;
    });
    const follower = bluegreen(
      nats.url,
      ["deploy", SERVICE, "v1.3", "--wait", "--id", "ci-3", "--timeout", "30s"],
      { onStdout: (out) => out.includes("is already running") && following() },
    );
    // ... a raw repeat of ci-3 is answered "already running", with its phase.
    const [request] = await ofDeployment("ci-3", "deploy.requested");
    await nc.jetstream().publish(`bluegreen.${SERVICE}.deploy.requested`, JSON.stringify(request), {
      msgID: `${request?.id}-again`,
    });
    const inProgress = await waitFor(
      async () => (await ofDeployment("ci-3", "agent.rejected"))[0],
      { what: "the in-progress answer", timeoutMs: 10_000 },
    );
    expect(inProgress.data).toMatchObject({
      code: "BG_ERR_DEPLOY_IN_PROGRESS",
      originalId: request?.id,
    });
    expect(dataOf(inProgress).message).toContain("awaiting_promotion");
    await Promise.race([read, follower]);
    const promoted = await cli(["promote", SERVICE, "ci-3", "--wait", "--timeout", "30s"]);
    expect(promoted.code, promoted.stdout + promoted.stderr).toBe(0);
    const followed = await follower;
    expect(followed.code, followed.stdout + followed.stderr).toBe(0);
    expect(followed.stdout).toContain(
      "deployment ci-3 (v1.3) is already running: awaiting_promotion",
    );
    expect(await ofDeployment("ci-3", "deploy.started")).toHaveLength(1);
    // The cause is gone: the id that was only rejected deploys.
    const retried = await deployWait("v1.4", "ci-4");
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    expect((await ofDeployment("ci-4", "deploy.rejected")).length).toBe(1);
    expect((await ofDeployment("ci-4", "deploy.succeeded")).length).toBe(1);
  });

  it("a deploy for an unknown service is rejected and leaves no row in status", async () => {
    const run = await deployWait("v1", "ci-5", "nosuch");
    expect(run.code).toBe(3);
    expect(run.stdout).toContain("BG_ERR_CONFIG_UNKNOWN_SERVICE");
    const status = await cli(["status", "--json"]);
    expect(status.code).toBe(0);
    expect(status.lines.map((l) => JSON.parse(l).service)).not.toContain("nosuch");
    expect(await deployments.get("nosuch.ci-5")).toBeNull();
  });
});

describe("tail --json", () => {
  it("writes one valid JSON document per line; a stored message that is not an event is wrapped", async () => {
    const js = nc.jetstream();
    const garbage = "{not json\nat all";
    const ack = await js.publish(`bluegreen.${SERVICE}.deploy.progress`, garbage, {
      msgID: "garbage-cli-1",
    });
    const run = await cli(["tail", "--service", SERVICE, "--json"]);
    expect(run.code).toBe(0);
    const docs = run.lines.map((l) => JSON.parse(l));
    expect(docs.length).toBeGreaterThan(10);
    const wrapped = docs.filter((d) => d.invalid === true);
    expect(wrapped).toEqual([
      {
        invalid: true,
        seq: ack.seq,
        subject: `bluegreen.${SERVICE}.deploy.progress`,
        raw: garbage,
        error: { code: "BG_ERR_EVENT_MALFORMED_JSON", message: expect.any(String) },
      },
    ]);
    for (const doc of docs.filter((d) => d.invalid !== true))
      expect(parseEvent(JSON.stringify(doc)).ok).toBe(true);
  });
});

describe("requestedBy", () => {
  it("on GitHub Actions: the actor, the repository and the run URL; elsewhere user@host", async () => {
    const github = {
      GITHUB_ACTIONS: "true",
      GITHUB_ACTOR: "alice",
      GITHUB_REPOSITORY: "acme/cart",
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_RUN_ID: "4242",
    };
    // v1.4 is active: both are rejected at once, the request is what counts here.
    await Promise.all([
      cli(["deploy", SERVICE, "v1.4", "--id", "ci-gh"], github),
      cli(["deploy", SERVICE, "v1.4", "--id", "ci-local"], NO_CI),
    ]);
    const [gh] = await ofDeployment("ci-gh", "deploy.requested");
    const [local] = await ofDeployment("ci-local", "deploy.requested");
    expect(dataOf(gh).requestedBy).toBe(
      "alice github:acme/cart https://github.com/acme/cart/actions/runs/4242",
    );
    expect(dataOf(local).requestedBy).toMatch(/^[^@\s]+@[^@\s]+$/);
  });
});

describe("--version", () => {
  const version = JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, "utf8")).version as string;
  it("bluegreen and every agent print the root package.json's version", async () => {
    const bins = ["coordinator", "switcher", "nodeAgent", "monitor", "notifier"] as const;
    const [cliRun, ...agents] = await Promise.all([
      cli(["--version"]),
      ...bins.map((bin) =>
        runCommand(process.execPath, [...sourceArgs(bin), "--version"], {
          cwd: REPO_ROOT,
          timeoutMs: 30_000,
        }),
      ),
    ]);
    expect(cliRun?.code).toBe(0);
    expect(cliRun?.stdout.trim()).toBe(`bluegreen ${version}`);
    for (const run of agents) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.trim()).toMatch(
        new RegExp(`^bluegreen-[a-z-]+ ${version.replaceAll(".", "\\.")}$`),
      );
    }
  });
});
