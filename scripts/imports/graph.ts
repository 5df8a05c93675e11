import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/**
 * The repository's import graph between its own TypeScript files, and the rules it keeps:
 * no import cycle between files; nothing under packages/ imports from tests/, scripts/ or
 * bench/; nothing under scripts/ or bench/ imports from tests/; no deep import into another
 * package's files (a package is used through its public entry).
 */

const SKIP = new Set(["node_modules", "dist", ".git"]);
const ROOTS = ["packages", "tests", "scripts", "bench", "examples"];
/** `import … from "x"`, `export … from "x"`, `import("x")`, `import "x"`. */
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s+["']([^"']+)["']/gm;

export interface ImportEdge {
  /** Repo-relative paths. */
  from: string;
  to: string;
  /** The specifier as written. */
  spec: string;
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith(".d.ts")) out.push(path);
  }
}

/** The specifiers a source text imports (type-only imports included: they tie files too). */
export function importsOf(text: string): string[] {
  const specs: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec !== undefined) specs.push(spec);
  }
  return specs;
}

/** Every edge between the repo's own files (relative specifiers only). */
export function importGraph(root: string): { files: string[]; edges: ImportEdge[] } {
  const files: string[] = [];
  for (const top of ROOTS) {
    try {
      walk(join(root, top), files);
    } catch {
      // a root that does not exist in this checkout
    }
  }
  const known = new Set(files);
  const edges: ImportEdge[] = [];
  for (const file of files) {
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) {
        edges.push({ from: relative(root, file), to: spec, spec });
        continue;
      }
      const target = resolve(dirname(file), spec);
      const candidates = [target, `${target}.ts`, join(target, "index.ts")];
      const hit = candidates.find((c) => known.has(c));
      if (hit !== undefined)
        edges.push({ from: relative(root, file), to: relative(root, hit), spec });
    }
  }
  return { files: files.map((f) => relative(root, f)), edges };
}

/** Strongly connected components with more than one file (or a file importing itself). */
export function importCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (!e.spec.startsWith(".")) continue;
    next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  }
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, indexOf.get(w) ?? 0));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      for (;;) {
        const w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of next.keys()) if (!indexOf.has(v)) visit(v);
  return cycles;
}

const top = (path: string) => path.split("/")[0] ?? "";
const packageOf = (path: string) =>
  path.startsWith("packages/") ? path.split("/").slice(0, 2).join("/") : undefined;

/** Imports that break the layering rules, each as "from → spec: why". */
export function layeringViolations(edges: readonly ImportEdge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const from = top(e.from);
    if (!e.spec.startsWith(".")) {
      if (/^@bluegreen\/[^/]+\/./.test(e.spec) && !/^@bluegreen\/[^/]+\/internal$/.test(e.spec))
        out.push(`${e.from} → ${e.spec}: deep import (use the package's entry)`);
      if (from === "packages" && e.spec === "@bluegreen/tests")
        out.push(`${e.from} → ${e.spec}: a package imports the test suites`);
      continue;
    }
    const to = top(e.to);
    if (from === "packages" && ["tests", "scripts", "bench"].includes(to))
      out.push(`${e.from} → ${e.spec}: a package imports from ${to}/`);
    if ((from === "scripts" || from === "bench") && to === "tests")
      out.push(`${e.from} → ${e.spec}: ${from}/ imports from tests/`);
    const a = packageOf(e.from);
    const b = packageOf(e.to);
    if (a !== undefined && b !== undefined && a !== b)
      out.push(`${e.from} → ${e.spec}: reaches into ${b} (use @bluegreen/${b.slice(9)})`);
    if (from !== "packages" && to === "packages")
      out.push(`${e.from} → ${e.spec}: reaches into a package's files (use its entry)`);
  }
  return out;
}
