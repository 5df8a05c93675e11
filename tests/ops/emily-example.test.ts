// Given examples/emily, when an operator reads its README, then every file there is listed
// with the host it goes on, and every YAML file in it compiles: the agent configs with the
// agent config pipeline, service.yaml with the service definition pipeline.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compileAgentConfig, compileServiceDefinition } from "@bluegreen/contracts";
import { REPO_ROOT } from "@bluegreen/testkit";
import { describe, expect, it } from "vitest";

const DIR = join(REPO_ROOT, "examples/emily");
const files = readdirSync(DIR).filter((f) => f !== "README.md");
const readme = readFileSync(join(DIR, "README.md"), "utf8");
/** The first column of the README's table: the files it describes. */
const listed = [...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);

describe("examples/emily/README.md", () => {
  it("lists every file of examples/emily, and no file that is not there", () => {
    expect([...listed].sort()).toEqual([...files].sort());
  });

  it.each(files.filter((f) => f.endsWith(".yaml")))("%s compiles", (file) => {
    const text = readFileSync(join(DIR, file), "utf8");
    const source = `examples/emily/${file}`;
    if (file === "service.yaml") {
      expect(compileServiceDefinition(text, { source }).service).toBe("emily");
    } else {
      const config = compileAgentConfig(text, { source });
      expect(file.startsWith(config.role)).toBe(true);
    }
  });
});
