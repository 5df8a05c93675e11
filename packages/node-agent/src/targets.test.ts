import { describe, expect, it } from "vitest";
import { selectTargets, servedNodes } from "./targets.ts";

const definition = {
  nodes: {
    blue: [{ host: "10.0.0.10", port: 8000 }],
    green: [
      { host: "10.0.0.11", port: 8000, ssh: { port: 22, user: "deploy" } },
      { host: "10.0.0.12", port: 8000 },
    ],
  },
};
const green = [
  { host: "10.0.0.11", port: 8000 },
  { host: "10.0.0.12", port: 8000 },
];

describe("selectTargets", () => {
  it("takes every node of the event when the entry lists no nodes", () => {
    const targets = selectTargets(
      [{ service: "emily", color: "green" }],
      { service: "emily", color: "green", nodes: green },
      definition,
    );
    expect(targets.map((t) => t.node)).toEqual(green);
    expect(targets[0]?.defined?.ssh?.user).toBe("deploy");
  });

  it("keeps only the listed nodes, with the entry's workdir", () => {
    const targets = selectTargets(
      [{ service: "emily", color: "green", nodes: ["10.0.0.12:8000"], workdir: "/srv/emily" }],
      { service: "emily", color: "green", nodes: green },
      definition,
    );
    expect(targets).toEqual([
      { node: green[1], defined: definition.nodes.green[1], workdirOverride: "/srv/emily" },
    ]);
  });

  it.each([
    ["another colour", { service: "emily", color: "blue" }],
    ["another service", { service: "other", color: "green" }],
  ] as const)("ignores an entry for %s", (_what, entry) => {
    const started = { service: "emily", color: "green" as const, nodes: green };
    expect(selectTargets([{ ...entry }], started, definition)).toEqual([]);
  });

  it("still deploys a node the definition no longer lists (without SSH settings)", () => {
    const targets = selectTargets(
      [{ service: "emily", color: "green" }],
      { service: "emily", color: "green", nodes: [{ host: "10.0.0.99", port: 8000 }] },
      definition,
    );
    expect(targets).toEqual([
      { node: { host: "10.0.0.99", port: 8000 }, defined: undefined, workdirOverride: undefined },
    ]);
  });
});

describe("servedNodes", () => {
  it("lists the served nodes of every service with a definition", () => {
    const served = servedNodes(
      [
        { service: "emily", color: "green", nodes: ["10.0.0.11:8000"] },
        { service: "missing", color: "blue" },
      ],
      (s) => (s === "emily" ? definition : undefined),
    );
    expect(served).toEqual([{ service: "emily", color: "green", node: definition.nodes.green[0] }]);
  });
});
