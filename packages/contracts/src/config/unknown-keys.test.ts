import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { objectPaths, type Path } from "../fixtures.ts";
import { agentConfigJsonSchema, serviceDefinitionJsonSchema } from "../jsonschema.ts";
import { compileAgentConfig, compileServiceDefinition, configIssues } from "./compile.ts";

/**
 * Fuzz: an unknown key inserted at any depth of a valid definition or agent config is refused
 * and named at the path where it was put. Free-form maps (env, headers, JSON bodies) are left
 * out: any key is valid there.
 */

const examples = fileURLToPath(new URL("../../../../examples/emily/", import.meta.url));
const read = (name: string) => readFileSync(`${examples}${name}`, "utf8");
const FREE_FORM = new Set(["env", "headers", "json"]);

/** Every property name any schema knows, so the fuzz never inserts a real field. */
function allFieldNames(schema: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) for (const s of schema) allFieldNames(s, into);
  else if (typeof schema === "object" && schema !== null) {
    for (const [key, value] of Object.entries(schema)) {
      if (key === "properties") for (const name of Object.keys(value as object)) into.add(name);
      allFieldNames(value, into);
    }
  }
  return into;
}
const KNOWN = allFieldNames([serviceDefinitionJsonSchema(), agentConfigJsonSchema()]);

const unknownKey = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,15}$/)
  .filter((k) => !KNOWN.has(k) && k !== "__proto__");

function withKey(value: unknown, path: Path, key: string, inserted: unknown): unknown {
  const copy = structuredClone(value);
  let node = copy as Record<string | number, unknown>;
  for (const step of path) node = node[step] as Record<string | number, unknown>;
  node[key] = inserted;
  return copy;
}

const cases: [string, unknown, (input: unknown) => unknown][] = [
  ["the emily definition", parse(read("service.yaml")), (i) => compileServiceDefinition(i)],
  ...readdirSync(examples)
    .filter((f) => f.endsWith(".yaml") && f !== "service.yaml")
    .map((f): [string, unknown, (input: unknown) => unknown] => [
      f,
      parse(read(f)),
      (i) => compileAgentConfig(i),
    ]),
];

describe.each(cases)("unknown keys fuzzed into %s", (_, valid, compile) => {
  const paths = objectPaths(valid, FREE_FORM);

  it("starts valid", () => {
    expect(() => compile(valid)).not.toThrow();
    expect(paths.length).toBeGreaterThan(1);
  });

  it("are never valid, at any depth, and are named where they are", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...paths),
        unknownKey,
        fc.jsonValue({ maxDepth: 2 }),
        (path, key, inserted) => {
          let error: unknown;
          try {
            compile(withKey(valid, path, key, inserted));
          } catch (err) {
            error = err;
          }
          expect(error, `${[...path, key].join(".")} was accepted`).toBeDefined();
          const issues = configIssues(error);
          expect(issues.map((i) => i.path)).toContain([...path, key].join("."));
        },
      ),
      { numRuns: 200 },
    );
  });
});
