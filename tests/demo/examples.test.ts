// Every example file compiles, so the examples never rot: each YAML file under examples/ is a
// service definition (compiled with compileServiceDefinition) or an agent's config (with
// compileAgentConfig); a template (tokens like __BLUE_PORT__) is rendered first. A YAML file
// that is neither fails here, so a new kind of example has to be taught to this test.

import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { compileAgentConfig, compileServiceDefinition } from "@bluegreen/contracts";
import { REPO_ROOT } from "@bluegreen/testkit";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderLocalDefinition } from "../../examples/local/definition.ts";

const EXAMPLES = join(REPO_ROOT, "examples");
const TOKEN = /__[A-Z]+(?:_[A-Z]+)*__/;

/** How each template is rendered, by its path under examples/. */
const RENDERERS: Record<string, (text: string) => string> = {
  "local/service.yaml": () =>
    renderLocalDefinition({ stateDir: "/tmp/bg-examples", bluePort: 18101, greenPort: 18102 }),
};

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

type Kind = "service" | "agent" | "unknown";

function kindOf(doc: unknown): Kind {
  if (typeof doc !== "object" || doc === null) return "unknown";
  if ("role" in doc) return "agent";
  if ("service" in doc && "nodes" in doc) return "service";
  return "unknown";
}

const files = yamlFiles(EXAMPLES).map((path) => relative(EXAMPLES, path));

describe("the example files", () => {
  it("include the guide's topology and the local template", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "emily/service.yaml",
        "emily/switcher.yaml",
        "emily/monitor.yaml",
        "local/service.yaml",
      ]),
    );
  });

  it.each(files)("examples/%s compiles", (file) => {
    let text = readFileSync(join(EXAMPLES, file), "utf8");
    if (TOKEN.test(text)) {
      const render = RENDERERS[file];
      if (render === undefined) {
        throw new Error(
          `examples/${file} is a template, but this test does not know how to render it`,
        );
      }
      text = render(text);
      expect(text).not.toMatch(TOKEN);
    }
    const source = `examples/${file}`;
    const kind = kindOf(parse(text));
    if (kind === "service") {
      expect(compileServiceDefinition(text, { source }).service).toMatch(/^[a-z]/);
    } else if (kind === "agent") {
      expect(compileAgentConfig(text, { source }).role).toBeTypeOf("string");
    } else {
      throw new Error(`${source} is neither a service definition nor an agent config`);
    }
  });
});
