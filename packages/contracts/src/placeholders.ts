/**
 * `${name}` placeholders in argv elements and queries. Substitution happens inside one
 * string at a time: a value can never split into extra argv elements or reach a shell.
 */
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export type PlaceholderValues = Readonly<Record<string, string>>;

export function expandPlaceholders(template: string, values: PlaceholderValues): string {
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    Object.hasOwn(values, name) ? (values[name] as string) : whole,
  );
}

export function expandArgv(argv: readonly string[], values: PlaceholderValues): string[] {
  return argv.map((element) => expandPlaceholders(element, values));
}

/** Placeholder names used in a template, for validation. */
export function placeholdersIn(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? "");
}
