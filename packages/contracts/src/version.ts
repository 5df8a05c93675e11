import { z } from "zod";
import { BgError } from "./errors.ts";

/**
 * The version/ref rule. A version ends up in argv elements on the node (`git checkout
 * ${version}`), in paths and in log lines, so only a small alphabet passes: letters, digits and
 * `. _ + - /`, starting with a letter or digit, at most 128 characters, no `..`, no `//`.
 * Shell metacharacters, whitespace, quotes and control characters are all refused.
 */
export const VERSION_MAX_LENGTH = 128;
const VERSION_ALPHABET = /^[A-Za-z0-9._+/-]*$/;

/** Why a version is refused, or undefined when it is safe. */
export function versionProblem(value: string): string | undefined {
  if (value.length === 0) return "it is empty";
  if (value.length > VERSION_MAX_LENGTH)
    return `it is ${value.length} characters long, over the ${VERSION_MAX_LENGTH}-character limit`;
  if (value.startsWith("-")) return "it starts with '-' (it would be read as an option)";
  if (!VERSION_ALPHABET.test(value)) {
    const bad = [...value].find((ch) => !/[A-Za-z0-9._+/-]/.test(ch)) ?? "";
    const shown = /\s/.test(bad) ? "whitespace" : `'${bad}'`;
    return `it contains ${shown}; only letters, digits and . _ + - / are allowed`;
  }
  if (value.includes("..")) return "it contains '..'";
  if (!/^[A-Za-z0-9]/.test(value)) return "it must start with a letter or a digit";
  if (value.includes("//")) return "it contains '//'";
  if (value.endsWith("/") || value.endsWith(".")) return "it ends with '/' or '.'";
  return undefined;
}

export function isSafeVersion(value: unknown): value is string {
  return typeof value === "string" && versionProblem(value) === undefined;
}

export function assertSafeVersion(value: string): string {
  const reason = versionProblem(value);
  if (reason !== undefined)
    throw new BgError("BG_ERR_VERSION_UNSAFE", { version: value.slice(0, 140), reason });
  return value;
}

/** The same rule as one regular expression, so the exported JSON Schema carries it too. */
export const VERSION_PATTERN = /^(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9][A-Za-z0-9._+/-]{0,127}(?<![/.])$/;

export const versionSchema = z.string().regex(VERSION_PATTERN, {
  error: (issue) =>
    `unsafe version: ${typeof issue.input === "string" ? (versionProblem(issue.input) ?? "refused") : "expected a string"}`,
});
