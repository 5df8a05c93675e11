import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { BgError } from "../errors.ts";
import {
  type ConfigIssue,
  compileAgentConfig,
  compileServiceDefinition,
  configIssues,
  formatConfigIssue,
} from "./compile.ts";

const emilyYaml = readFileSync(
  fileURLToPath(new URL("../../../../examples/emily/service.yaml", import.meta.url)),
  "utf8",
);

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BgError);
    return configIssues(err).map(formatConfigIssue);
  }
  throw new Error("expected the config to be refused");
}

describe("service definition compile", () => {
  it("compiles the guide's emily definition with defaults and durations in ms", () => {
    const def = compileServiceDefinition(emilyYaml, { source: "service.yaml" });
    expect(def.service).toBe("emily");
    expect(def.nodes.green).toEqual([{ host: "10.0.0.11", port: 8000 }]);
    expect(def.deploy.timeout).toBe(600_000);
    expect(def.readiness).toMatchObject({ path: "/health", interval: 1000, timeout: 120_000 });
    expect(def.smoke.map((c) => c.name)).toEqual(["health", "inference", "memory"]);
    expect(def.monitor.window).toBe(1_800_000);
    expect(def.monitor.slos[0]).toMatchObject({
      max: 0.05,
      on_breach: "rollback",
      min_requests: 1,
    });
    expect(def.monitor.inconclusive).toEqual({
      limit: 3,
      consecutive: false,
      on_limit: "rollback",
    });
    expect(Object.isFrozen(def)).toBe(true);
    expect(Object.isFrozen(def.nodes.blue)).toBe(true);
  });

  it("round-trips: compiling the compiled form gives the same definition", () => {
    const def = compileServiceDefinition(emilyYaml);
    const again = compileServiceDefinition(stringify(structuredClone(def)));
    expect(again).toEqual(def);
  });

  it("accepts several nodes per colour", () => {
    const text = emilyYaml.replace(
      "green: { host: 10.0.0.11, port: 8000 }",
      "green: [{ host: 10.0.0.11, port: 8000 }, { host: 10.0.0.12, port: 8000 }]",
    );
    expect(compileServiceDefinition(text).nodes.green).toHaveLength(2);
  });

  it("reports every problem of a broken definition with its path and YAML line", () => {
    const broken = emilyYaml
      .replace("green: { host: 10.0.0.11, port: 8000 }", "green: { host: 10.0.0.11, port: eight }")
      .replace('- [git, checkout, "${version}"]', '- "git checkout ${version}"')
      .replace("timeout: 10m", "timeout: ten minutes")
      .replace("max: 0.05", "max: lots")
      .replace("path: /api/v1/memory", "path: api/v1/memory");
    const lines = broken.split("\n");
    const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
    const issues = issuesOf(() => compileServiceDefinition(broken, { source: "emily.yaml" }));
    expect(issues).toEqual(
      expect.arrayContaining([
        `nodes.green.port: expected a number, got the string "eight" (line ${lineOf("port: eight")})`,
        expect.stringMatching(
          new RegExp(
            `^deploy\\.steps\\.1: expected an argv array .*\\(line ${lineOf('"git checkout')}\\)$`,
          ),
        ),
        expect.stringMatching(
          new RegExp(
            `^deploy\\.timeout: expected a duration .*\\(line ${lineOf("ten minutes")}\\)$`,
          ),
        ),
        expect.stringMatching(
          new RegExp(`^monitor\\.slos\\.0\\.max: .*\\(line ${lineOf("max: lots")}\\)$`),
        ),
        expect.stringMatching(
          new RegExp(
            `^smoke\\.2\\.request\\.path: expected a path .*\\(line ${lineOf("api/v1/memory")}\\)$`,
          ),
        ),
      ]),
    );
    expect(issues).toHaveLength(5);
  });

  it("names a missing section as required", () => {
    const issues = issuesOf(() => compileServiceDefinition("service: emily\n"));
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^nodes: is required/),
        expect.stringMatching(/^deploy: is required/),
      ]),
    );
  });

  it("refuses unknown placeholders in steps and the same node in both colours", () => {
    const broken = emilyYaml
      .replace('"${version}"', '"${verison}"')
      .replace("green: { host: 10.0.0.11, port: 8000 }", "green: { host: 10.0.0.10, port: 8000 }");
    const issues = issuesOf(() => compileServiceDefinition(broken));
    expect(issues.join("\n")).toContain("unknown placeholder ${verison}");
    expect(issues.join("\n")).toContain("node 10.0.0.10:8000 is already used by blue[0]");
  });

  it("requires scrape specs when the source is direct scrape", () => {
    const broken = emilyYaml
      .replace("source: { prometheus: http://localhost:9090 }", "source: { scrape: true }")
      .replace(/^ *scrape: \{ errorRatio: \{\} \}\n/m, "");
    expect(issuesOf(() => compileServiceDefinition(broken)).join("\n")).toContain(
      "monitor.slos.0.scrape: the direct-scrape source needs a scrape spec for every SLO",
    );
  });

  it("requires nginx specs when the source is nginx, and takes a probe", () => {
    const nginx = emilyYaml.replace(
      "source: { prometheus: http://localhost:9090 }",
      "source: { nginx: { probe: { request: { path: /health }, rate: 5 } } }",
    );
    expect(issuesOf(() => compileServiceDefinition(nginx)).join("\n")).toContain(
      "monitor.slos.0.nginx: the nginx source needs an nginx spec for every SLO",
    );
    const ok = nginx.replace(
      /^( *)scrape: \{ errorRatio: \{\} \}\n/m,
      "$1nginx: { errorRatio: {} }\n",
    );
    const withQuantile = ok.replace(
      /^( *)scrape: \{ quantile: (.*)\n/m,
      "$1nginx: { quantile: $2\n",
    );
    const def = compileServiceDefinition(withQuantile);
    expect(def.monitor.source).toEqual({
      nginx: {
        stale_after: 1_000,
        probe: { request: { method: "GET", path: "/health" }, rate: 5 },
      },
    });
    expect(def.monitor.slos[0]?.nginx).toEqual({ errorRatio: { errorStatus: "5.." } });
  });

  it("takes the nginx source beside Prometheus: an SLO needs a query or an nginx spec", () => {
    const beside = emilyYaml.replace(
      "source: { prometheus: http://localhost:9090 }",
      "source: { prometheus: http://localhost:9090, nginx: {} }",
    );
    const nginxOnly = beside.replace(/^( *)query: .*\n/m, "$1nginx: { errorRatio: {} }\n");
    expect(compileServiceDefinition(nginxOnly).monitor.source).toMatchObject({
      nginx: { stale_after: 1_000 },
    });
    const neither = beside.replace(/^ *query: .*\n/m, "");
    expect(issuesOf(() => compileServiceDefinition(neither)).join("\n")).toContain(
      "monitor.slos.0.query: the Prometheus source needs a query for every SLO (or, with nginx beside it, an nginx spec)",
    );
  });

  it("reports YAML syntax errors with their line and column, and the line with a caret", () => {
    expect(() =>
      compileServiceDefinition("service: emily\nnodes: [\n", { source: "x.yaml" }),
    ).toThrow(
      expect.objectContaining({
        code: "BG_ERR_CONFIG_YAML",
        message: expect.stringMatching(
          /^x\.yaml:2:9: configuration is not valid YAML: .*\n {2}2 \| nodes: \[\n {4}\| {9}\^$/,
        ),
        details: expect.objectContaining({ line: 2, column: 9 }),
      }),
    );
    const tabbed = "service: emily\ndeploy:\n\tworkdir: /x\n";
    expect(() => compileServiceDefinition(tabbed, { source: "t.yaml" })).toThrow(
      expect.objectContaining({
        code: "BG_ERR_CONFIG_YAML",
        message: expect.stringMatching(/^t\.yaml:3:1: .*\n {2}3 \| \tworkdir: \/x\n {4}\| \^$/),
      }),
    );
  });
});

/** One typo in the emily definition: where it is, what it is, what it should have been. */
const TYPOS: readonly [
  what: string,
  from: string,
  to: string,
  path: string,
  suggestion: string | undefined,
][] = [
  ["a top-level section", "smoke:", "smoek:", "smoek", "smoke"],
  ["a top-level section (deletion)", "monitor:", "monitr:", "monitr", "monitor"],
  ["a nested field", "interval: 1s", "intervall: 1s", "readiness.intervall", "interval"],
  [
    "a field of a short-form node",
    "green: { host: 10.0.0.11, port: 8000 }",
    "green: { host: 10.0.0.11, port: 8000, sshh: {} }",
    "nodes.green.sshh",
    "ssh",
  ],
  [
    "a field of a list item",
    "expect:  { status: 200 }\n  - name: memory",
    "expekt:  { status: 200 }\n  - name: memory",
    "smoke.1.expekt",
    "expect",
  ],
  [
    "a field two lists deep",
    "on_breach: warn",
    "on_braech: warn",
    "monitor.slos.1.on_braech",
    "on_breach",
  ],
  [
    "a field inside a union",
    "source: { prometheus: http://localhost:9090 }",
    "source: { prometheus: http://localhost:9090, timout: 5s }",
    "monitor.source.timout",
    "timeout",
  ],
  [
    "a camelCase spelling",
    "timeout: 10m",
    "timeout: 10m\n  stepTimeout: 1m",
    "deploy.stepTimeout",
    "step_timeout",
  ],
  [
    "a word that is no typo",
    "timeout: 10m",
    "timeout: 10m\n  parallel: true",
    "deploy.parallel",
    undefined,
  ],
];

describe("unknown fields", () => {
  it.each(TYPOS)(
    "in %s: names the path, the line and the closest field",
    (_, from, to, path, suggestion) => {
      expect(emilyYaml).toContain(from);
      const broken = emilyYaml.replace(from, to);
      const key = path.split(".").at(-1) as string;
      const line = broken.split("\n").findIndex((l) => new RegExp(`\\b${key}:`).test(l)) + 1;
      let error: unknown;
      try {
        compileServiceDefinition(broken, { source: "emily.yaml" });
      } catch (err) {
        error = err;
      }
      const issue = configIssues(error).find((i) => i.path === path);
      expect(issue).toMatchObject({
        path,
        line,
        unknownKey: key,
        code: "BG_ERR_CONFIG_UNKNOWN_FIELD",
      });
      expect(issue?.suggestion).toBe(suggestion);
      const parent = path.split(".").slice(0, -1);
      const where =
        parent.length === 0
          ? "a service definition"
          : `\`${parent.join(".").replace(/\.(\d+)/g, "[$1]")}\` in a service definition`;
      const head = `${path}: \`${key}\` is not a field of ${where}; `;
      const formatted = formatConfigIssue(issue as ConfigIssue);
      if (suggestion === undefined) {
        expect(formatted.startsWith(`${head}its fields are \``)).toBe(true);
        expect(formatted.endsWith(` (line ${line})`)).toBe(true);
      } else expect(formatted).toBe(`${head}did you mean \`${suggestion}\`? (line ${line})`);
    },
  );

  it("gives the typo its own code when it is the only problem", () => {
    const broken = emilyYaml.replace("smoke:", "smoek:");
    expect(() => compileServiceDefinition(broken, { source: "emily.yaml" })).toThrow(
      expect.objectContaining({
        code: "BG_ERR_CONFIG_UNKNOWN_FIELD",
        message: expect.stringContaining(
          "emily.yaml: smoek: `smoek` is not a field of a service definition; did you mean `smoke`? (line 17)",
        ),
      }),
    );
  });

  it("lists the fields there are when nothing is close", () => {
    const issues = issuesOf(() => compileServiceDefinition(`${emilyYaml}\nxyzzy: 1\n`));
    expect(issues[0]).toMatch(
      /^xyzzy: `xyzzy` is not a field of a service definition; its fields are `service`, `nodes`, `deploy`, .*`monitor` \(line \d+\)$/,
    );
  });

  it("keeps free-form maps open: env, headers and JSON bodies take any key", () => {
    const text = emilyYaml
      .replace("timeout: 10m", "timeout: 10m\n  env: { ANY_NAME: x }")
      .replace(
        "request: { method: GET, path: /health }",
        "request: { method: GET, path: /health, headers: { X-Any: y } }",
      )
      .replace("json: { prompt: test }", "json: { prompt: test, anything: { nested: true } }");
    expect(() => compileServiceDefinition(text)).not.toThrow();
  });

  it.each([
    [
      "role: monitor\nagent_id: m1\nservices: [emily]\nnats: { server: [nats://x:4222] }\n",
      "nats.server",
      4,
      "servers",
      "a monitor config",
    ],
    [
      "role: node-agent\nagent_id: n1\nserves:\n  - { service: emily, color: blue, nodez: [] }\n",
      "serves.0.nodez",
      4,
      "nodes",
      "a node-agent config",
    ],
    [
      "role: switcher\nagent_id: s1\nservices: [emily]\non_drfit: adopt\n",
      "on_drfit",
      4,
      "on_drift",
      "a switcher config",
    ],
    [
      "role: coordinator\nagent_id: c1\nlog: { levle: debug }\n",
      "log.levle",
      3,
      "level",
      "a coordinator config",
    ],
  ])("in an agent config %#: %s", (text, path, line, suggestion, kind) => {
    let error: unknown;
    try {
      compileAgentConfig(text, { source: "agent.yaml" });
    } catch (err) {
      error = err;
    }
    expect((error as BgError).code).toBe("BG_ERR_CONFIG_UNKNOWN_FIELD");
    const [issue] = configIssues(error);
    expect(issue).toMatchObject({ path, line, suggestion });
    expect(issue?.message).toContain(kind);
  });
});

describe("agent config compile", () => {
  it("fills defaults for a switcher", () => {
    const cfg = compileAgentConfig("role: switcher\nagent_id: sw-1\nservices: [emily]\n");
    expect(cfg.role).toBe("switcher");
    if (cfg.role !== "switcher") throw new Error("unreachable");
    expect(cfg.nginx.test_command).toEqual(["nginx", "-t"]);
    expect(cfg.nats.servers).toEqual(["nats://127.0.0.1:4222"]);
    expect(cfg.heartbeat_interval).toBe(5000);
    expect(cfg.on_drift).toBe("reapply");
  });

  it("refuses an unknown role and a bad agent id", () => {
    expect(issuesOf(() => compileAgentConfig("role: janitor\nagent_id: x\n")).join()).toContain(
      "role",
    );
    const issues = issuesOf(() =>
      compileAgentConfig("role: monitor\nagent_id: 'bad id'\nservices: [emily]\n"),
    );
    expect(issues[0]).toMatch(/^agent_id: agent id must match .* \(line 2\)$/);
  });

  it("refuses both a password and a password file", () => {
    const issues = issuesOf(() =>
      compileAgentConfig(
        "role: coordinator\nagent_id: c1\nnats: { servers: [nats://127.0.0.1:4222], pass: x, pass_file: /y }\n",
      ),
    );
    expect(issues.join()).toContain("nats.pass_file: give pass or pass_file, not both");
  });

  it("a coordinator's audit block: off when absent, defaults, strict, at most 2000 a checkpoint", () => {
    const off = compileAgentConfig("role: coordinator\nagent_id: c1\n");
    expect(off.role === "coordinator" && off.audit).toBeUndefined();
    const on = compileAgentConfig(
      "role: coordinator\nagent_id: c1\naudit: { signing_key_file: /etc/k }\n",
    );
    expect(on.role === "coordinator" && on.audit).toEqual({
      signing_key_file: "/etc/k",
      checkpoint_every: 1000,
      checkpoint_interval: 60_000,
    });
    const audit = (body: string) =>
      issuesOf(() =>
        compileAgentConfig(`role: coordinator\nagent_id: c1\naudit: ${body}\n`),
      ).join();
    expect(audit("{ signing_key_file: /k, every: 5 }")).toMatch(/audit\.every/);
    expect(audit("{ signing_key_file: /k, checkpoint_every: 2001 }")).toMatch(
      /audit\.checkpoint_every/,
    );
    expect(audit("{ checkpoint_every: 10 }")).toMatch(/audit\.signing_key_file/);
  });
});
