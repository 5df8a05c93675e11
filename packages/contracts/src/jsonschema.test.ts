import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import formatsPlugin from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderLocalDefinition } from "../../../examples/local/definition.ts";
import { CONTRACT_VERSION, dataschemaUri } from "./compat.ts";
import { compileAgentConfig, compileServiceDefinition, configIssues } from "./config/compile.ts";
import { parseEvent } from "./envelope.ts";
import { EVENT_NAMES, EVENTS, type EventName } from "./events/index.ts";
import { exampleEvent, type Path } from "./fixtures.ts";
import { allJsonSchemas } from "./jsonschema.ts";

/**
 * The exported JSON Schemas against the runtime, both ways, with a real validator: what the
 * runtime accepts the schema accepts (every example and doc snippet), and what the runtime
 * refuses the schema refuses (a table of bad cases, and a fuzz that mutates the examples).
 */

const root = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, "utf8");

// ajv-formats is CommonJS: its default export is the plugin itself or carries it as `default`.
type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((formatsPlugin as unknown as { default?: FormatsPlugin }).default ??
  formatsPlugin) as unknown as FormatsPlugin;
const ajv = addFormats(
  new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false }),
);
const schemas = allJsonSchemas();
for (const [file, schema] of Object.entries(schemas)) ajv.addSchema(schema, file);

type Kind = "definition" | "agent" | { event: EventName };
const schemaFile = (kind: Kind) =>
  kind === "definition"
    ? "service-definition.json"
    : kind === "agent"
      ? "agent-config.json"
      : `events/${kind.event}.json`;

function schemaAccepts(kind: Kind, value: unknown): boolean {
  const validate = ajv.getSchema(schemaFile(kind));
  if (!validate) throw new Error(`no schema ${schemaFile(kind)}`);
  return validate(value) === true;
}

/** The runtime's verdict: undefined when accepted, else its problems. */
function runtimeProblems(kind: Kind, value: unknown): string[] | undefined {
  if (typeof kind === "object") {
    const result = parseEvent(JSON.stringify(value));
    return result.ok ? undefined : [result.error.message];
  }
  try {
    if (kind === "definition") compileServiceDefinition(value);
    else compileAgentConfig(value);
    return undefined;
  } catch (err) {
    const issues = configIssues(err);
    return issues.length > 0 ? issues.map((i) => i.message) : [String(err)];
  }
}

const emily = parse(read("examples/emily/service.yaml")) as Record<string, unknown>;

const envelopeFor = exampleEvent;

// ---- what people write: examples/, docs/ --------------------------------------------------

const DEFINITION_SECTIONS = new Set(Object.keys(emily));
const ROLE_FIELDS: Record<string, Record<string, unknown>> = {
  switcher: { role: "switcher", agent_id: "s1", services: ["emily"] },
  "node-agent": {
    role: "node-agent",
    agent_id: "n1",
    serves: [{ service: "emily", color: "blue" }],
  },
  monitor: { role: "monitor", agent_id: "m1", services: ["emily"] },
  coordinator: { role: "coordinator", agent_id: "c1" },
};

/** A snippet as a whole document: sections of a definition or an agent config are filled in. */
function asDocument(snippet: unknown): { kind: Kind; value: unknown } | undefined {
  if (typeof snippet !== "object" || snippet === null || Array.isArray(snippet)) return undefined;
  const value = snippet as Record<string, unknown>;
  const keys = Object.keys(value);
  if (typeof value.type === "string" && value.type.startsWith("bluegreen.") && "data" in value) {
    const name = value.type.slice("bluegreen.".length) as EventName;
    // An excerpt of an event in prose: the attributes it leaves out are filled in.
    return {
      kind: { event: name },
      value: "specversion" in value ? value : envelopeFor(name, value),
    };
  }
  if ("role" in value) return { kind: "agent", value };
  if ("service" in value && "deploy" in value) return { kind: "definition", value };
  if (keys.length > 0 && keys.every((k) => DEFINITION_SECTIONS.has(k) && k !== "service"))
    return { kind: "definition", value: { ...emily, ...value } };
  for (const base of Object.values(ROLE_FIELDS)) {
    const fields = new Set(Object.keys(ROLE_FIELDS[base.role as string] ?? {}));
    const agentKeys = ["nats", "http", "log", "heartbeat_interval", "nginx", "on_drift", "ssh"];
    if (keys.every((k) => fields.has(k) || agentKeys.includes(k))) {
      if (keys.includes("nginx") && base.role !== "switcher") continue;
      if (keys.includes("ssh") && base.role !== "node-agent") continue;
      return { kind: "agent", value: { ...base, ...value } };
    }
  }
  return undefined;
}

function docSnippets(): [string, Kind, unknown][] {
  const files = [
    ...readdirSync(`${root}docs`)
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`),
    "README.md",
  ];
  const out: [string, Kind, unknown][] = [];
  for (const file of files) {
    const text = read(file);
    for (const match of text.matchAll(/^```(json|yaml)\n([\s\S]*?)^```$/gm)) {
      const line = text.slice(0, match.index).split("\n").length;
      let parsed: unknown;
      try {
        parsed = parse(match[2] as string);
      } catch {
        continue; // JSON lines of a log, a template with placeholders: not a document
      }
      const doc = asDocument(parsed);
      if (doc) out.push([`${file}:${line}`, doc.kind, doc.value]);
    }
  }
  return out;
}

function exampleFiles(): [string, Kind, unknown][] {
  const dir = "examples/emily/";
  const local = renderLocalDefinition({
    stateDir: "/tmp/bluegreen-local",
    bluePort: 8001,
    greenPort: 8002,
  });
  return [
    ...readdirSync(`${root}${dir}`)
      .filter((f) => f.endsWith(".yaml"))
      .map((f): [string, Kind, unknown] => {
        const value = parse(read(`${dir}${f}`));
        return [`${dir}${f}`, "role" in value ? "agent" : "definition", value];
      }),
    ["examples/local/service.yaml (rendered)", "definition", parse(local)],
  ];
}

describe("JSON Schemas and the runtime agree on what people write", () => {
  const samples = [...exampleFiles(), ...docSnippets()];

  it("finds the examples and the snippets in docs/", () => {
    const labels = samples.map(([label]) => label);
    expect(labels).toEqual(
      expect.arrayContaining([
        "examples/emily/service.yaml",
        "examples/emily/switcher.yaml",
        expect.stringMatching(/^docs\/events\.md:/),
        expect.stringMatching(/^docs\/switcher\.md:/),
        expect.stringMatching(/^docs\/node-agent\.md:/),
      ]),
    );
  });

  it.each(samples)("%s is valid for both", (_, kind, value) => {
    expect(runtimeProblems(kind, value)).toBeUndefined();
    expect(
      schemaAccepts(kind, value) || ajv.errorsText(ajv.getSchema(schemaFile(kind))?.errors),
    ).toBe(true);
  });

  it.each(EVENT_NAMES)("the documented example of %s is valid for both", (name) => {
    const event = envelopeFor(name, { dataschema: dataschemaUri(name) });
    expect(runtimeProblems({ event: name }, event)).toBeUndefined();
    expect(schemaAccepts({ event: name }, event)).toBe(true);
  });
});

// ---- what the runtime refuses ---------------------------------------------------------------

// biome-ignore lint/suspicious/noExplicitAny: the bad cases edit a parsed document freely
type Loose = any;
type Mutation = (value: Record<string, Loose>) => void;
const def = (what: string, mutate: Mutation): [string, Kind, unknown] => {
  const value = structuredClone(emily) as Record<string, Loose>;
  mutate(value);
  return [what, "definition", value];
};
const agent = (what: string, value: Record<string, unknown>): [string, Kind, unknown] => [
  what,
  "agent",
  value,
];
const event = (
  what: string,
  name: EventName,
  rest: Record<string, unknown>,
): [string, Kind, unknown] => [what, { event: name }, envelopeFor(name, rest)];
const next = (name: EventName) =>
  dataschemaUri(name, { major: CONTRACT_VERSION.major, minor: CONTRACT_VERSION.minor + 1 });

const REFUSED: [string, Kind, unknown][] = [
  def("a top-level typo", (d) => {
    d.smoek = d.smoke;
    delete d.smoke;
  }),
  def("a nested typo", (d) => {
    d.readiness.intervall = "1s";
  }),
  def("a typo in a list item", (d) => {
    d.smoke[1].expekt = { status: 200 };
  }),
  def("a typo in a short-form node", (d) => {
    d.nodes.blue.prot = 1;
  }),
  def("a typo in a list of nodes", (d) => {
    d.nodes.green = [{ host: "10.0.0.11", port: 8000, sshh: {} }];
  }),
  def("an empty list of nodes", (d) => {
    d.nodes.green = [];
  }),
  def("a typo in the monitor source", (d) => {
    d.monitor.source.timout = "5s";
  }),
  def("a typo in an SLO's scrape spec", (d) => {
    d.monitor.slos[0].scrape.errorRatio.countr = "x";
  }),
  def("a duration that is not one", (d) => {
    d.deploy.timeout = "ten minutes";
  }),
  def("a negative duration", (d) => {
    d.deploy.timeout = -1;
  }),
  def("a port as a string", (d) => {
    d.nodes.blue.port = "8000";
  }),
  def("an unknown executor", (d) => {
    d.deploy.executor = "docker";
  }),
  def("an unknown placeholder", (d) => {
    d.deploy.steps[1][2] = "${verison}";
  }),
  def("a shell string for a step", (d) => {
    d.deploy.steps[0] = "git fetch";
  }),
  def("a relative workdir", (d) => {
    d.deploy.workdir = "opt/emily";
  }),
  def("an SLO with neither query nor scrape", (d) => {
    delete d.monitor.slos[0].query;
    delete d.monitor.slos[0].scrape;
  }),
  def("a Prometheus SLO without a query", (d) => {
    delete d.monitor.slos[1].query;
  }),
  def("a scrape source with an SLO without scrape", (d) => {
    d.monitor.source = { scrape: true };
    delete d.monitor.slos[1].scrape;
  }),
  def("a missing section", (d) => {
    delete d.traffic;
  }),
  def("a bad verify URL", (d) => {
    d.traffic.verify.url = "not a url";
  }),
  agent("an agent config typo", {
    role: "monitor",
    agent_id: "m1",
    services: ["emily"],
    servics: [],
  }),
  agent("a nested agent config typo", {
    role: "coordinator",
    agent_id: "c1",
    nats: { server: ["x"] },
  }),
  agent("a typo in a list item of an agent config", {
    role: "node-agent",
    agent_id: "n1",
    serves: [{ service: "emily", color: "blue", colour: "x" }],
  }),
  agent("an unknown role", { role: "janitor", agent_id: "j1" }),
  agent("a pass and a pass_file", {
    role: "coordinator",
    agent_id: "c1",
    nats: { pass: "x", pass_file: "/y" },
  }),
  event("a typo in data", "deploy.requested", { data: { version: "v1", manualPromotoin: true } }),
  event("a typo deep in data", "switch.done", {
    data: { ...(EVENTS["switch.done"].example as object), timings: { totalMs: 1, reloadMss: 2 } },
  }),
  event("a typo in data of this version", "deploy.requested", {
    dataschema: dataschemaUri("deploy.requested"),
    data: { version: "v1", queu: true },
  }),
  event("an unsafe version", "deploy.requested", { data: { version: "v1;rm -rf /" } }),
  event("an attribute name CloudEvents does not allow", "deploy.requested", {
    deploymentId: "d-1",
  }),
  event("an object as an extension attribute", "deploy.requested", { trace: { id: 1 } }),
  event("another major version", "deploy.requested", {
    dataschema: dataschemaUri("deploy.requested", { major: CONTRACT_VERSION.major + 1, minor: 0 }),
  }),
  event("the dataschema of another event", "deploy.requested", {
    dataschema: dataschemaUri("deploy.started"),
  }),
  event("an unknown error code of this version", "deploy.failed", {
    data: { stage: "deploy", error: { code: "BG_ERR_NOPE", message: "x", retryable: false } },
  }),
  event("a bad colour from a newer version", "deploy.failed", {
    dataschema: next("deploy.failed"),
    data: {
      stage: "deploy",
      color: "purple",
      error: { code: "BG_ERR_NOPE", message: "x", retryable: false },
    },
  }),
  event("no specversion", "deploy.requested", { specversion: undefined }),
  event("a subject that is no service", "deploy.requested", { subject: "Emily!" }),
];

const ACCEPTED: [string, Kind, unknown][] = [
  def("several nodes per colour", (d) => {
    d.nodes.green = [
      { host: "10.0.0.11", port: 8000 },
      { host: "10.0.0.12", port: 8000 },
    ];
  }),
  def("a duration in milliseconds", (d) => {
    d.deploy.timeout = 600000;
  }),
  def("free-form env and headers", (d) => {
    d.deploy.env = { ANY_NAME: "x" };
    d.smoke[0].request.headers = { "X-Any": "y" };
  }),
  def("a placeholder-like text that is none", (d) => {
    d.deploy.steps[1][2] = "${version}-$HOME-${unclosed";
  }),
  event("an extension attribute", "deploy.requested", { traceparent: "00-abc-01" }),
  event("added fields from a newer version", "deploy.requested", {
    dataschema: next("deploy.requested"),
    data: { version: "v1", priority: 3 },
  }),
  event("an error code added by a newer version", "deploy.failed", {
    dataschema: next("deploy.failed"),
    data: {
      stage: "deploy",
      error: { code: "BG_ERR_NEW", message: "x", retryable: false, hint: "y" },
    },
  }),
];

/** Rules across fields that JSON Schema cannot say: the runtime alone refuses these. */
const RUNTIME_ONLY: [string, Kind, unknown][] = [
  def("the same node in both colours", (d) => {
    d.nodes.green = { ...d.nodes.blue };
  }),
  def("two smoke checks with one name", (d) => {
    d.smoke[1].name = d.smoke[0].name;
  }),
];

describe("JSON Schemas refuse what the runtime refuses", () => {
  it.each(REFUSED)("%s: refused by both", (_, kind, value) => {
    const clean = JSON.parse(JSON.stringify(value));
    expect(runtimeProblems(kind, clean)).toBeDefined();
    expect(schemaAccepts(kind, clean)).toBe(false);
  });

  it.each(ACCEPTED)("%s: accepted by both", (_, kind, value) => {
    expect(runtimeProblems(kind, value)).toBeUndefined();
    expect(
      schemaAccepts(kind, value) || ajv.errorsText(ajv.getSchema(schemaFile(kind))?.errors),
    ).toBe(true);
  });

  it.each(RUNTIME_ONLY)("%s: refused by the runtime only (documented)", (_, kind, value) => {
    expect(runtimeProblems(kind, value)).toBeDefined();
    expect(schemaAccepts(kind, value)).toBe(true);
  });
});

// ---- fuzz: random edits of the examples, the same verdict from both ----------------------------

function leafPaths(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value)) return [path, ...value.flatMap((v, i) => leafPaths(v, [...path, i]))];
  if (typeof value === "object" && value !== null)
    return [path, ...Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]))];
  return [path];
}

function setAt(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  node[path.at(-1) as string | number] = replacement;
  return copy;
}

const replacement = fc.oneof(
  fc.constantFrom(
    "10m",
    "1.5s",
    " 2h ",
    "ten",
    "",
    "/health",
    "health",
    "${version}",
    "${nope}",
    "blue",
    "GET",
    "v1.1",
    "http://x/y",
  ),
  fc.constantFrom(-1, 0, 1, 0.5, 80, 70000, 1e300),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.constant({ host: "10.0.0.99", port: 9000 }),
);

const DUPLICATE = /already used by|duplicate check name/;

describe("fuzz: the schema and the runtime give the same verdict", () => {
  const cases: [string, Kind, unknown][] = [
    ["the emily definition", "definition", emily],
    ["the emily switcher config", "agent", parse(read("examples/emily/switcher.yaml"))],
    ["the emily node-agent SSH config", "agent", parse(read("examples/emily/node-agent-ssh.yaml"))],
    ...(["deploy.requested", "deploy.failed", "switch.done", "smoke.failed"] as const).map(
      (name): [string, Kind, unknown] => [
        name,
        { event: name },
        envelopeFor(name, { dataschema: dataschemaUri(name) }),
      ],
    ),
  ];

  it.each(cases)("on random edits of %s", (_, kind, valid) => {
    const paths = leafPaths(valid).filter((p) => p.length > 0);
    // An edit replaces a value, or adds a key to an object (free-form maps included).
    const objects = leafPaths(valid).filter((p) => {
      const node = p.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], valid);
      return typeof node === "object" && node !== null && !Array.isArray(node);
    });
    const edit = fc.oneof(
      fc.tuple(fc.constantFrom(...paths), replacement),
      fc
        .tuple(
          fc.constantFrom(...objects),
          fc.constantFrom("xtra", "Smoke", "timout", "data1"),
          replacement,
        )
        .map(([path, key, value]): [Path, unknown] => [[...path, key], value]),
    );
    fc.assert(
      fc.property(edit, ([path, value]) => {
        const edited = setAt(valid, path, value);
        const problems = runtimeProblems(kind, edited);
        if (problems?.some((p) => DUPLICATE.test(p))) return; // runtime-only rules
        const where = `${path.join(".")} = ${JSON.stringify(value)}`;
        expect(
          schemaAccepts(kind, edited),
          `${where}: runtime says ${problems?.join("; ") ?? "valid"}`,
        ).toBe(problems === undefined);
      }),
      { numRuns: 400 },
    );
  });
});
