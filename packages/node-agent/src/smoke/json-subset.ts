/**
 * "A JSON subset": every key given in the expectation must be present in the answer with that
 * value. Objects are compared key by key (extra keys in the answer are fine), arrays element by
 * element with the same length, everything else by strict equality.
 * Returns the first difference, or undefined when the answer contains the expectation.
 */
export interface SubsetMismatch {
  readonly path: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function findSubsetMismatch(
  expected: unknown,
  actual: unknown,
  path = "",
): SubsetMismatch | undefined {
  if (isObject(expected)) {
    if (!isObject(actual)) return { path: path || "(root)", expected, actual };
    for (const [key, value] of Object.entries(expected)) {
      const childPath = path === "" ? key : `${path}.${key}`;
      if (!Object.hasOwn(actual, key))
        return { path: childPath, expected: value, actual: undefined };
      const mismatch = findSubsetMismatch(value, actual[key], childPath);
      if (mismatch !== undefined) return mismatch;
    }
    return undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length)
      return { path: path || "(root)", expected, actual };
    for (let i = 0; i < expected.length; i++) {
      const mismatch = findSubsetMismatch(expected[i], actual[i], `${path}[${i}]`);
      if (mismatch !== undefined) return mismatch;
    }
    return undefined;
  }
  return Object.is(expected, actual) ? undefined : { path: path || "(root)", expected, actual };
}

export function describeValue(value: unknown, max = 80): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
