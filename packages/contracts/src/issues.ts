import type { z } from "zod";
import { knownFieldsAt } from "./fields.ts";
import { closestName } from "./suggest.ts";

/** One problem found in an input, with the dotted path to it. */
export interface Issue {
  readonly path: string;
  readonly message: string;
  /** Set when the problem is a key the schema does not know: the key as written. */
  readonly unknownKey?: string;
  /** The known field closest to `unknownKey`, when one is close enough to be its typo. */
  readonly suggestion?: string;
}

/** An issue whose path is still a list (config compile turns it into a YAML line). */
export interface PathIssue extends Omit<Issue, "path"> {
  readonly path: readonly PropertyKey[];
}

/** What was parsed, so an unknown key can be named with its place and the closest field. */
export interface IssueContext {
  readonly schema: z.core.$ZodType;
  readonly input: unknown;
  /** What the root is, for messages: "a service definition", "a bluegreen.deploy.requested event". */
  readonly kind: string;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/**
 * Messages a user can act on: "is required", "expected a number, got the string \"x\"".
 * Passed to `safeParse` so the global zod configuration stays untouched.
 */
export const readableErrors: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return "is required";
    const article = /^[aeiou]/.test(issue.expected) ? "an" : "a";
    return `expected ${article} ${issue.expected}, got ${describe(issue.input)}`;
  }
  if (issue.code === "unrecognized_keys") return `unknown key(s): ${issue.keys.join(", ")}`;
  return undefined;
};

/** A path as written in YAML or JSON: `smoke[1].request`. */
export function writtenPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`))
    .join("");
}

const FIELD_LIST_LIMIT = 16;

/**
 * "`smoek` is not a field of a service definition; did you mean `smoke`?" — or, when no known
 * field is close, the fields there are.
 */
export function unknownFieldMessage(
  key: string,
  parent: readonly PropertyKey[],
  kind: string,
  known: readonly string[] | undefined,
): { message: string; suggestion?: string } {
  const where = parent.length === 0 ? kind : `\`${writtenPath(parent)}\` in ${kind}`;
  const suggestion = known === undefined ? undefined : closestName(key, known);
  let hint = "";
  if (suggestion !== undefined) hint = `; did you mean \`${suggestion}\`?`;
  else if (known !== undefined && known.length > 0) {
    const shown = known.slice(0, FIELD_LIST_LIMIT).map((k) => `\`${k}\``);
    hint = `; its fields are ${shown.join(", ")}${known.length > FIELD_LIST_LIMIT ? ", …" : ""}`;
  }
  const message = `\`${key}\` is not a field of ${where}${hint}`;
  return suggestion === undefined ? { message } : { message, suggestion };
}

type ZodIssue = z.core.$ZodIssue;

/** A failed union reports the problems of the option the input was closest to. */
function flatten(issue: ZodIssue, prefix: readonly PropertyKey[]): ZodIssue[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const rank = (alt: readonly ZodIssue[]) =>
      (alt.some((i) => i.path.length === 0 && i.code === "invalid_type") ? 1_000 : 0) + alt.length;
    const best = issue.errors.reduce((a, b) => (rank(b) < rank(a) ? b : a));
    return best.flatMap((inner) => flatten(inner, path));
  }
  return [{ ...issue, path } as ZodIssue];
}

/**
 * Every problem of a failed parse, one per unknown key, union failures resolved to the closest
 * option. With a context, an unknown key is named with its place and the closest known field.
 */
export function pathIssues(error: z.ZodError, ctx?: IssueContext): PathIssue[] {
  const out: PathIssue[] = [];
  for (const issue of error.issues.flatMap((i) => flatten(i, []))) {
    if (issue.code === "custom" && typeof issue.params?.unknownKey === "string") {
      // A check that found a key it refuses, and already named it (CloudEvents attributes).
      const { unknownKey, suggestion } = issue.params as {
        unknownKey: string;
        suggestion?: string;
      };
      out.push({
        path: issue.path,
        message: issue.message,
        unknownKey,
        ...(suggestion === undefined ? {} : { suggestion }),
      });
      continue;
    }
    if (issue.code !== "unrecognized_keys") {
      out.push({ path: issue.path, message: issue.message });
      continue;
    }
    const known = ctx ? knownFieldsAt(ctx.schema, issue.path, ctx.input) : undefined;
    for (const key of issue.keys) {
      const { message, suggestion } = unknownFieldMessage(
        key,
        issue.path,
        ctx?.kind ?? "it",
        known,
      );
      out.push({
        path: [...issue.path, key],
        message,
        unknownKey: key,
        ...(suggestion === undefined ? {} : { suggestion }),
      });
    }
  }
  return out;
}

export const joinPath = (path: readonly PropertyKey[]): string =>
  path.map(String).join(".") || "(root)";

export function toIssues(error: z.ZodError, ctx?: IssueContext): Issue[] {
  return pathIssues(error, ctx).map((issue) => ({ ...issue, path: joinPath(issue.path) }));
}

/** True when every problem is an unknown key (the error then gets its own code). */
export const onlyUnknownKeys = (issues: readonly Pick<Issue, "unknownKey">[]): boolean =>
  issues.length > 0 && issues.every((i) => i.unknownKey !== undefined);

export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}
