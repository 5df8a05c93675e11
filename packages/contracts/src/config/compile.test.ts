import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { BgError } from "../errors.ts";
import {
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

  it("reports YAML syntax errors with their line", () => {
    expect(() =>
      compileServiceDefinition("service: emily\nnodes: [\n", { source: "x.yaml" }),
    ).toThrow(
      expect.objectContaining({
        code: "BG_ERR_CONFIG_YAML",
        message: expect.stringContaining("x.yaml:"),
      }),
    );
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
});
