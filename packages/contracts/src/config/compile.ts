import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from "yaml";
import type { z } from "zod";
import { BgError } from "../errors.ts";
import { type Issue, readableErrors } from "../issues.ts";
import {
  type AgentConfig,
  agentConfigSchema,
  type CoordinatorConfig,
  coordinatorConfigSchema,
  type MonitorConfig,
  monitorConfigSchema,
  type NodeAgentConfig,
  nodeAgentConfigSchema,
  type SwitcherConfig,
  switcherConfigSchema,
} from "./agents.ts";
import { type ServiceDefinition, serviceDefinitionSchema } from "./service.ts";

/**
 * The one config pipeline: raw YAML (or an object) → parse with defaults → frozen, typed
 * config. A failure is one `BG_ERR_CONFIG_INVALID` listing every problem with its path and,
 * for YAML input, its line.
 */

export interface ConfigIssue extends Issue {
  readonly line?: number;
}

export interface CompileOptions {
  /** File name for messages. */
  source?: string;
}

interface Located {
  value: unknown;
  lineOf: (path: readonly PropertyKey[]) => number | undefined;
}

function readYaml(text: string, source: string): Located {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const line = first?.linePos?.[0]?.line;
    throw new BgError("BG_ERR_CONFIG_YAML", {
      reason: `${source}${line === undefined ? "" : `:${line}`}: ${first?.message.split("\n")[0] ?? "parse error"}`,
    });
  }
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    // The deepest node on the path that exists gives the line.
    let node: unknown = doc.contents;
    let line: number | undefined = rangeLine(node, lineCounter);
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => String((p.key as YamlNode | null)?.toJSON?.() ?? p.key) === String(key),
        );
        if (!pair) break;
        line = rangeLine(pair.key, lineCounter) ?? line;
        node = pair.value;
        line = rangeLine(node, lineCounter) ?? line;
      } else if (isSeq(node)) {
        const item = node.items[Number(key)];
        if (item === undefined) break;
        node = item;
        line = rangeLine(node, lineCounter) ?? line;
      } else break;
    }
    return line;
  };
  return { value: doc.toJS({ maxAliasCount: 100 }), lineOf };
}

function rangeLine(node: unknown, counter: LineCounter): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? counter.linePos(range[0]).line : undefined;
}

/**
 * The path as the user wrote it: a short form (one node instead of a list) is compiled to a
 * list, so drop list indexes where the input had no list.
 */
function asWritten(input: unknown, path: readonly PropertyKey[]): PropertyKey[] {
  const out: PropertyKey[] = [];
  let node: unknown = input;
  for (const key of path) {
    if (
      typeof key === "number" &&
      node !== null &&
      typeof node === "object" &&
      !Array.isArray(node)
    ) {
      continue;
    }
    out.push(key);
    node =
      node !== null && typeof node === "object"
        ? (node as Record<PropertyKey, unknown>)[key]
        : undefined;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  return `${issue.path}: ${issue.message}${issue.line === undefined ? "" : ` (line ${issue.line})`}`;
}

/** Generic pipeline step: raw (YAML text or object) → schema → frozen value. */
export function compileWith<S extends z.ZodType>(
  schema: S,
  input: string | unknown,
  opts: CompileOptions = {},
): Readonly<z.output<S>> {
  const source = opts.source ?? "(config)";
  const located: Located =
    typeof input === "string" ? readYaml(input, source) : { value: input, lineOf: () => undefined };
  const result = schema.safeParse(located.value ?? {}, { error: readableErrors });
  if (!result.success) {
    const issues: ConfigIssue[] = result.error.issues.map((raw) => {
      const path = asWritten(located.value, raw.path);
      const base = { path: path.map(String).join(".") || "(root)", message: raw.message };
      const line = located.lineOf(path);
      return line === undefined ? base : { ...base, line };
    });
    throw new BgError(
      "BG_ERR_CONFIG_INVALID",
      { problems: `${source}: ${issues.map(formatConfigIssue).join("; ")}` },
      { details: issues },
    );
  }
  return deepFreeze(result.data);
}

/** The problems of a config error (empty for any other error). */
export function configIssues(error: unknown): ConfigIssue[] {
  return error instanceof BgError && error.code === "BG_ERR_CONFIG_INVALID"
    ? (error.details as ConfigIssue[])
    : [];
}

export function compileServiceDefinition(
  input: string | unknown,
  opts?: CompileOptions,
): Readonly<ServiceDefinition> {
  return compileWith(serviceDefinitionSchema, input, opts);
}

export function compileAgentConfig(
  input: string | unknown,
  opts?: CompileOptions,
): Readonly<AgentConfig> {
  return compileWith(agentConfigSchema, input, opts);
}
export const compileSwitcherConfig = (
  i: string | unknown,
  o?: CompileOptions,
): Readonly<SwitcherConfig> => compileWith(switcherConfigSchema, i, o);
export const compileNodeAgentConfig = (
  i: string | unknown,
  o?: CompileOptions,
): Readonly<NodeAgentConfig> => compileWith(nodeAgentConfigSchema, i, o);
export const compileMonitorConfig = (
  i: string | unknown,
  o?: CompileOptions,
): Readonly<MonitorConfig> => compileWith(monitorConfigSchema, i, o);
export const compileCoordinatorConfig = (
  i: string | unknown,
  o?: CompileOptions,
): Readonly<CoordinatorConfig> => compileWith(coordinatorConfigSchema, i, o);
