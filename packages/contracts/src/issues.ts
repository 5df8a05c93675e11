import type { z } from "zod";

/** One problem found in an input, with the dotted path to it. */
export interface Issue {
  readonly path: string;
  readonly message: string;
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

export function toIssues(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
}

export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}
