import type { z } from "zod";

/**
 * Which fields a strict object of a schema knows, found by walking the schema along a path.
 * Used to say "did you mean …?" for an unknown key; a union picks the option that fits the
 * input best (by its discriminator, or the fewest keys it does not know).
 */

type Schema = z.core.$ZodType;
interface Def {
  type: string;
  innerType?: Schema;
  in?: Schema;
  out?: Schema;
  shape?: Record<string, Schema>;
  element?: Schema;
  options?: readonly Schema[];
  discriminator?: string;
  getter?: () => Schema;
}

/** Schema types that wrap one `innerType` and add nothing a key could be checked against. */
export const WRAPPERS: ReadonlySet<string> = new Set([
  "optional",
  "nullable",
  "default",
  "prefault",
  "nonoptional",
  "readonly",
  "catch",
]);

const defOf = (schema: Schema) => schema._zod.def as unknown as Def;
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function objectsAt(schema: Schema, path: readonly PropertyKey[], input: unknown): Schema[] {
  const found: Schema[] = [];
  const visit = (s: Schema, depth: number, value: unknown): void => {
    const def = defOf(s);
    if (WRAPPERS.has(def.type)) {
      if (def.innerType) visit(def.innerType, depth, value);
      return;
    }
    switch (def.type) {
      case "pipe":
        // A preprocess is a pipe out of a transform: what the user writes is its output's input.
        if (def.in && def.out)
          visit(defOf(def.in).type === "transform" ? def.out : def.in, depth, value);
        return;
      case "lazy":
        if (def.getter) visit(def.getter(), depth, value);
        return;
      case "union": {
        let options = def.options ?? [];
        const tag = def.discriminator;
        if (tag !== undefined && isRecord(value)) {
          const matching = options.filter((o) =>
            o._zod.propValues?.[tag]?.has(value[tag] as never),
          );
          if (matching.length > 0) options = matching;
        }
        for (const option of options) visit(option, depth, value);
        return;
      }
      case "object": {
        if (depth === path.length) {
          found.push(s);
          return;
        }
        const key = path[depth];
        const child = typeof key === "string" ? def.shape?.[key] : undefined;
        if (child) visit(child, depth + 1, isRecord(value) ? value[key as string] : undefined);
        return;
      }
      case "array":
        if (depth < path.length && typeof path[depth] === "number" && def.element) {
          visit(
            def.element,
            depth + 1,
            Array.isArray(value) ? value[path[depth] as number] : undefined,
          );
        }
        return;
      default:
        return;
    }
  };
  visit(schema, 0, input);
  return found;
}

/** The fields of the object at `path` (in the schema's order), or undefined when not found. */
export function knownFieldsAt(
  schema: Schema,
  path: readonly PropertyKey[],
  input: unknown,
): string[] | undefined {
  let value: unknown = input;
  for (const key of path)
    value = isRecord(value) || Array.isArray(value) ? (value as never)[key] : undefined;
  const keys = isRecord(value) ? Object.keys(value) : [];
  let best: string[] | undefined;
  let bestUnknown = Number.POSITIVE_INFINITY;
  for (const object of objectsAt(schema, path, input)) {
    const fields = Object.keys(defOf(object).shape ?? {});
    const unknown = keys.filter((k) => !fields.includes(k)).length;
    if (unknown < bestUnknown) {
      best = fields;
      bestUnknown = unknown;
    }
  }
  return best;
}
