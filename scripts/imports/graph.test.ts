import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  type ImportEdge,
  importCycles,
  importGraph,
  importsOf,
  layeringViolations,
} from "./graph.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const edge = (from: string, to: string, spec = "./x.ts"): ImportEdge => ({ from, to, spec });

describe("the import graph's rules", () => {
  it("finds import, export-from, dynamic and side-effect imports", () => {
    const text = `import { a } from "./a.ts";\nimport type { B } from "../b.ts";\nexport { c } from "./c.ts";\nconst d = await import("./d.ts");\nimport "./e.ts";\nimport {\n  f,\n} from "@bluegreen/runtime";`;
    expect(importsOf(text).sort()).toEqual([
      "../b.ts",
      "./a.ts",
      "./c.ts",
      "./d.ts",
      "./e.ts",
      "@bluegreen/runtime",
    ]);
  });

  it("reports a cycle of two files and of three, not a chain", () => {
    expect(importCycles([edge("a", "b"), edge("b", "a"), edge("b", "c")])).toEqual([["a", "b"]]);
    expect(importCycles([edge("a", "b"), edge("b", "c"), edge("c", "a")])).toEqual([
      ["a", "b", "c"],
    ]);
    expect(importCycles([edge("a", "b"), edge("b", "c")])).toEqual([]);
  });

  it("reports imports across layers and deep imports", () => {
    expect(
      layeringViolations([
        edge("packages/switcher/src/a.ts", "tests/support/b.ts"),
        edge("bench/fleet.ts", "tests/e2e/processes.ts"),
        edge("scripts/demo/stack.ts", "tests/e2e/processes.ts"),
        edge("packages/cli/src/a.ts", "packages/coordinator/src/store.ts"),
        edge("tests/e2e/x.test.ts", "packages/switcher/src/a.ts"),
        {
          from: "tests/x.ts",
          to: "@bluegreen/switcher/src/a.ts",
          spec: "@bluegreen/switcher/src/a.ts",
        },
        edge("packages/cli/src/a.ts", "packages/cli/src/b.ts"),
        edge("tests/e2e/x.test.ts", "tests/e2e/stack.ts"),
      ]),
    ).toHaveLength(6);
  });
});

describe("this repository", () => {
  const { edges } = importGraph(REPO);

  it("has no import cycle between files", () => {
    expect(importCycles(edges)).toEqual([]);
  });

  it("keeps its layers: packages never import tests, scripts or bench; scripts and bench never import tests; no deep imports", () => {
    expect(layeringViolations(edges)).toEqual([]);
  });
});
