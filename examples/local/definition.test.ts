import { compileServiceDefinition } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { LOCAL_SERVICE, REPO_ROOT, renderLocalDefinition } from "./definition.ts";

describe("renderLocalDefinition", () => {
  it("renders a definition that compiles, with the guide's three smoke checks", () => {
    const yaml = renderLocalDefinition({
      stateDir: "/tmp/bg-local",
      bluePort: 8101,
      greenPort: 8102,
    });
    expect(yaml).not.toMatch(/__[A-Z_]+__/);
    const def = compileServiceDefinition(yaml, { source: "examples/local/service.yaml" });
    expect(def.service).toBe(LOCAL_SERVICE);
    expect(def.nodes.green).toEqual([{ host: "127.0.0.1", port: 8102, ssh: { port: 22 } }]);
    expect(def.deploy.workdir).toBe("/tmp/bg-local");
    expect(def.deploy.steps[0]).toEqual([
      process.execPath,
      `${REPO_ROOT}/examples/sample-app/bin/sample-app-ctl.js`,
      "stop",
      "--dir",
      "${service}-${color}",
    ]);
    expect(def.smoke.map((c) => c.name)).toEqual(["health", "inference", "memory"]);
  });

  it("renders the SSH shape", () => {
    const yaml = renderLocalDefinition({
      stateDir: "/tmp/bg-local",
      bluePort: 8101,
      greenPort: 8102,
      executor: "ssh",
      sshPort: 2222,
    });
    const def = compileServiceDefinition(yaml);
    expect(def.deploy.executor).toBe("ssh");
    expect(def.nodes.blue[0]?.ssh?.port).toBe(2222);
  });
});
