// The CI integrations (docs/ci.md): the GitHub Action and the GitLab component take the
// inputs the docs name, give the outputs they name, and run ci/deploy.sh with the one
// executable (the script itself runs against a real stack in tests/release).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { REPO } from "./paths.ts";

const INPUTS = ["service", "version", "wait-until", "timeout", "nats-url", "nats-user"];

describe("action.yml (GitHub)", () => {
  const action = parse(readFileSync(join(REPO, "action.yml"), "utf8")) as {
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
    runs: { using: string; steps: { run?: string; uses?: string }[] };
  };
  it("takes the service, version, wait, timeout and the NATS url/user/password/CA", () => {
    expect(Object.keys(action.inputs)).toEqual(
      expect.arrayContaining([...INPUTS, "nats-password", "nats-ca", "bluegreen-version"]),
    );
  });
  it("outputs the deployment id and the outcome", () => {
    expect(Object.keys(action.outputs).sort()).toEqual(["deployment-id", "outcome"]);
  });
  it("is composite: caches the executable, downloads the tarball, runs ci/deploy.sh", () => {
    expect(action.runs.using).toBe("composite");
    const steps = action.runs.steps;
    expect(steps[0]?.uses).toMatch(/^actions\/cache@/);
    expect(steps[1]?.run).toContain("bluegreen-{version}-linux-x64.tar.gz");
    expect(steps[2]?.run).toContain("ci/deploy.sh");
    expect(JSON.stringify(steps)).not.toMatch(/npm ci|setup-node/);
  });
});

describe("templates/deploy/template.yml (GitLab component)", () => {
  const [spec, job] = parseAllDocuments(
    readFileSync(join(REPO, "templates/deploy/template.yml"), "utf8"),
  ).map((d) => d.toJSON()) as [
    { spec: { inputs: Record<string, unknown> } },
    Record<string, { script: string[]; cache: { key: string }; artifacts: unknown }>,
  ];
  it("takes the same inputs", () => {
    expect(Object.keys(spec.spec.inputs)).toEqual(expect.arrayContaining(INPUTS));
  });
  it("one job: the cached tarball's ci-deploy.sh, a dotenv report with id and outcome", () => {
    const body = Object.values(job)[0];
    expect(body?.script.join("\n")).toContain("ci-deploy.sh");
    expect(body?.cache.key).toBe("bluegreen-$[[ inputs.bluegreen-version ]]");
    expect(JSON.stringify(body?.artifacts)).toContain("bluegreen.env");
  });
});
