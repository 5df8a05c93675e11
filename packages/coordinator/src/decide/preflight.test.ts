import { compileServiceDefinition } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { type AgentSeen, type PreflightFacts, preflight } from "./preflight.ts";

const definition = compileServiceDefinition(`
service: emily
nodes:
  blue:  { host: 127.0.0.1, port: 8001 }
  green: [{ host: 127.0.0.1, port: 8002 }, { host: 127.0.0.1, port: 8004 }]
deploy: { workdir: /srv/emily, steps: [["true"]], timeout: 1m }
readiness: { timeout: 20s }
smoke:
  - { name: health, request: { path: /health }, timeout: 2s }
  - { name: memory, request: { path: /api/v1/memory }, timeout: 3s }
traffic: { upstream: emily_active, file: /tmp/emily.conf, verify: { url: "http://127.0.0.1:8080/health" } }
monitor:
  window: 30s
  interval: 1s
  source: { scrape: true }
  slos: [{ name: errors, scrape: { errorRatio: {} }, max: 0.05 }]
`);

const now = new Date("2026-11-26T10:00:00.000Z");
const seen = (agent: Partial<AgentSeen> & Pick<AgentSeen, "role">, ageMs = 1_000): AgentSeen => ({
  agentId: `${agent.role}-1`,
  services: ["emily"],
  lastSeen: new Date(now.getTime() - ageMs),
  ...agent,
});
const allAgents: AgentSeen[] = [
  seen({ role: "node-agent", color: "green" }),
  seen({ role: "switcher" }),
  seen({ role: "monitor", services: ["*"] }),
];
const facts = (over: Partial<PreflightFacts> = {}): PreflightFacts => ({
  service: "emily",
  version: "v1.1",
  manualPromotion: false,
  definition,
  active: {
    record: { color: "blue", version: "v1.0", switchedAt: now.toISOString(), reason: "adopted" },
    revision: 3,
  },
  agents: allAgents,
  ...over,
});
const opts = { requireHeartbeats: true, heartbeatMaxAgeMs: 30_000, now };

describe("preflight", () => {
  it("plans the idle colour, every node of it, the fence and the timeouts", () => {
    const out = preflight(facts(), opts);
    expect(out).toMatchObject({
      ok: true,
      plan: {
        targetColor: "green",
        activeColor: "blue",
        previousVersion: "v1.0",
        activeRevision: 3,
        nodes: [
          { host: "127.0.0.1", port: 8002 },
          { host: "127.0.0.1", port: 8004 },
        ],
        timeouts: {
          deployMs: 60_000,
          readinessMs: 20_000,
          smokeMs: 5_000,
          monitorWindowMs: 30_000,
        },
      },
    });
  });

  it("deploys to blue when nothing is recorded as active", () => {
    const out = preflight(facts({ active: undefined }), { ...opts, requireHeartbeats: false });
    expect(out).toMatchObject({
      ok: true,
      plan: { targetColor: "blue", activeColor: null, activeRevision: 0 },
    });
  });

  it.each([
    ["an unknown service", facts({ definition: undefined }), "BG_ERR_CONFIG_UNKNOWN_SERVICE"],
    ["an unsafe version", facts({ version: "v1;rm -rf /" }), "BG_ERR_VERSION_UNSAFE"],
    ["the version already active", facts({ version: "v1.0" }), "BG_ERR_DEPLOY_ALREADY_ACTIVE"],
    [
      "a node agent without a recent heartbeat",
      facts({
        agents: [seen({ role: "node-agent", color: "green" }, 60_000), ...allAgents.slice(1)],
      }),
      "BG_ERR_DEPLOY_AGENT_MISSING",
    ],
    [
      "no switcher",
      facts({ agents: allAgents.filter((a) => a.role !== "switcher") }),
      "BG_ERR_DEPLOY_AGENT_MISSING",
    ],
    [
      "no monitor",
      facts({ agents: allAgents.filter((a) => a.role !== "monitor") }),
      "BG_ERR_DEPLOY_AGENT_MISSING",
    ],
    [
      "a node agent for another service",
      facts({ agents: [seen({ role: "node-agent", services: ["other"] }), ...allAgents.slice(1)] }),
      "BG_ERR_DEPLOY_AGENT_MISSING",
    ],
  ])("refuses %s", (_what, f, code) => {
    const out = preflight(f, opts);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.code).toBe(code);
  });

  it("names the node that has no agent", () => {
    const agents = [
      seen({ role: "node-agent", nodes: [{ node: "127.0.0.1:8002", healthy: true }] }),
      ...allAgents.slice(1),
    ];
    const out = preflight(facts({ agents }), opts);
    expect(out).toMatchObject({
      ok: false,
      params: { role: "node-agent", detail: " (node 127.0.0.1:8004 of green)" },
    });
  });

  it("skips the heartbeat checks when told to", () => {
    expect(preflight(facts({ agents: [] }), { ...opts, requireHeartbeats: false }).ok).toBe(true);
  });

  describe("a freeze", () => {
    const freeze = (until?: string, scope: "service" | "all" = "service") => ({
      scope,
      by: "alice@ops-1",
      reason: "incident 4711",
      at: "2026-11-26T09:00:00.000Z",
      ...(until === undefined ? {} : { until }),
    });
    const cases: {
      name: string;
      freezes: ReturnType<typeof freeze>[];
      kind?: "rollback" | "retry";
      code: string | undefined;
    }[] = [
      { name: "until lifted rejects a deploy", freezes: [freeze()], code: "BG_ERR_DEPLOY_FROZEN" },
      {
        name: "until a later time rejects a deploy",
        freezes: [freeze("2026-11-26T11:00:00.000Z")],
        code: "BG_ERR_DEPLOY_FROZEN",
      },
      {
        name: "of every service rejects a deploy",
        freezes: [freeze(undefined, "all")],
        code: "BG_ERR_DEPLOY_FROZEN",
      },
      {
        name: "rejects a retry too",
        freezes: [freeze()],
        kind: "retry",
        code: "BG_ERR_DEPLOY_FROZEN",
      },
      { name: "lets a rollback through", freezes: [freeze()], kind: "rollback", code: undefined },
      {
        name: "that expired lets a deploy through",
        freezes: [freeze("2026-11-26T10:00:00.000Z")],
        code: undefined,
      },
    ];
    for (const c of cases)
      it(c.name, () => {
        const out = preflight(facts({ freezes: c.freezes, kind: c.kind }), opts);
        expect(out.ok ? undefined : out.code).toBe(c.code);
      });

    it("names who froze it, why and until when", () => {
      const out = preflight(
        facts({ freezes: [freeze("2026-11-26T10:30:00.000Z"), freeze(undefined, "all")] }),
        opts,
      );
      expect(out).toMatchObject({
        ok: false,
        params: { service: "emily", by: "alice@ops-1", reason: "incident 4711", until: "lifted" },
      });
    });
  });
});
