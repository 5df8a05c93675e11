import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from "yaml";
import type { z } from "zod";
import { BgError, type ErrorCode } from "../errors.ts";
import { type Issue, joinPath, onlyUnknownKeys, pathIssues, readableErrors } from "../issues.ts";
import {
  type AgentConfig,
  agentConfigSchema,
  coordinatorConfigSchema,
  monitorConfigSchema,
  nodeAgentConfigSchema,
  notifierConfigSchema,
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
  /** `BG_ERR_CONFIG_UNKNOWN_FIELD` for a key the schema does not know. */
  readonly code?: ErrorCode;
}

export interface CompileOptions {
  /** File name for messages. */
  source?: string;
}

interface Located {
  value: unknown;
  /** The line of the value at `path` (of its key, with `key: true`). */
  lineOf: (path: readonly PropertyKey[], opts?: { key?: boolean }) => number | undefined;
}

/** The offending line with a caret under the column: `  3 | nodes: [` / `    |        ^`. */
export function caretExcerpt(text: string, line: number, column: number): string {
  const lines = text.split(/\r?\n/);
  const shown = lines[line - 1] ?? "";
  const gutter = String(line);
  const pad = " ".repeat(gutter.length);
  // Tabs stay tabs under the line, so the caret lines up whatever the tab width.
  const lead = shown.slice(0, Math.max(0, column - 1)).replace(/[^\t]/g, " ");
  return `\n  ${gutter} | ${shown}\n  ${pad} | ${lead}^`;
}

function readYaml(text: string, source: string): Located {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    // An error at the end of the input (an unclosed bracket) is shown after the last text.
    const offset = Math.min(first.pos[0], text.trimEnd().length);
    const { line, col } = lineCounter.linePos(offset);
    const excerpt = caretExcerpt(text, line, col);
    throw new BgError(
      "BG_ERR_CONFIG_YAML",
      {
        source,
        line,
        column: col,
        reason: first.message.split("\n")[0] ?? "parse error",
        excerpt,
      },
      { details: { line, column: col, yamlCode: first.code } },
    );
  }
  const lineOf = (path: readonly PropertyKey[], opts: { key?: boolean } = {}) => {
    // The deepest node on the path that exists gives the line.
    let node: unknown = doc.contents;
    let line: number | undefined = rangeLine(node, lineCounter);
    for (const [i, key] of path.entries()) {
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => String((p.key as YamlNode | null)?.toJSON?.() ?? p.key) === String(key),
        );
        if (!pair) break;
        line = rangeLine(pair.key, lineCounter) ?? line;
        if (opts.key === true && i === path.length - 1) break;
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
  opts: CompileOptions & { kind?: string | ((value: unknown) => string) } = {},
): Readonly<z.output<S>> {
  const source = opts.source ?? "(config)";
  const located: Located =
    typeof input === "string" ? readYaml(input, source) : { value: input, lineOf: () => undefined };
  const value = located.value ?? {};
  const result = schema.safeParse(value, { error: readableErrors });
  if (!result.success) {
    const kind = typeof opts.kind === "function" ? opts.kind(value) : opts.kind;
    const context = { schema, input: value, kind: kind ?? "the configuration" };
    const issues: ConfigIssue[] = pathIssues(result.error, context).map((raw) => {
      const path = asWritten(value, raw.path);
      const line = located.lineOf(path, { key: raw.unknownKey !== undefined });
      return {
        ...raw,
        path: joinPath(path),
        ...(line === undefined ? {} : { line }),
        ...(raw.unknownKey === undefined ? {} : { code: "BG_ERR_CONFIG_UNKNOWN_FIELD" as const }),
      };
    });
    throw new BgError(
      onlyUnknownKeys(issues) ? "BG_ERR_CONFIG_UNKNOWN_FIELD" : "BG_ERR_CONFIG_INVALID",
      { problems: `${source}: ${issues.map(formatConfigIssue).join("; ")}` },
      { details: issues },
    );
  }
  return deepFreeze(result.data);
}

/** The problems of a config error (empty for any other error). */
export function configIssues(error: unknown): ConfigIssue[] {
  return error instanceof BgError &&
    (error.code === "BG_ERR_CONFIG_INVALID" || error.code === "BG_ERR_CONFIG_UNKNOWN_FIELD") &&
    Array.isArray(error.details)
    ? (error.details as ConfigIssue[])
    : [];
}

export function compileServiceDefinition(
  input: string | unknown,
  opts?: CompileOptions,
): Readonly<ServiceDefinition> {
  return compileWith(serviceDefinitionSchema, input, { ...opts, kind: "a service definition" });
}

/** "a monitor config" when the role is one, "an agent config" otherwise. */
function agentConfigKind(value: unknown): string {
  const role = (value as { role?: unknown } | null)?.role;
  const roles: readonly unknown[] = [
    "switcher",
    "node-agent",
    "monitor",
    "coordinator",
    "notifier",
  ];
  return roles.includes(role) ? `a ${String(role)} config` : "an agent config";
}

export function compileAgentConfig(
  input: string | unknown,
  opts?: CompileOptions,
): Readonly<AgentConfig> {
  return compileWith(agentConfigSchema, input, { ...opts, kind: agentConfigKind });
}
/** The compiler of one role's config: the same pipeline, errors naming the role. */
const roleCompiler =
  <S extends z.ZodType>(schema: S, role: string) =>
  (input: string | unknown, opts?: CompileOptions): Readonly<z.output<S>> =>
    compileWith(schema, input, { ...opts, kind: `a ${role} config` });

export const compileSwitcherConfig = roleCompiler(switcherConfigSchema, "switcher");
export const compileNodeAgentConfig = roleCompiler(nodeAgentConfigSchema, "node-agent");
export const compileMonitorConfig = roleCompiler(monitorConfigSchema, "monitor");
export const compileCoordinatorConfig = roleCompiler(coordinatorConfigSchema, "coordinator");
export const compileNotifierConfig = roleCompiler(notifierConfigSchema, "notifier");
