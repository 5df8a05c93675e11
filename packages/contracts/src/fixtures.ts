import { EVENTS, type EventName } from "./events/index.ts";

/**
 * Test fixtures of this package (not exported from index.ts): the documented example of an
 * event as a whole CloudEvent, and the objects inside a value.
 */

/** `overrides` replace or add top-level attributes (`data` too); `undefined` removes one. */
export function exampleEvent(
  name: EventName,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const event: Record<string, unknown> = {
    specversion: "1.0",
    id: `example-${name}`,
    source: "bluegreen/test/1",
    type: `bluegreen.${name}`,
    time: "2026-11-26T10:00:00.000Z",
    subject: "emily",
    ...(EVENTS[name].deploymentId === "none" ? {} : { deploymentid: "d-20261126-1a2b3c" }),
    data: EVENTS[name].example,
    ...overrides,
  };
  for (const key of Object.keys(event)) if (event[key] === undefined) delete event[key];
  return event;
}

export type Path = (string | number)[];

/** Every object in a value, by its path, leaving out the maps whose keys are free-form. */
export function objectPaths(
  value: unknown,
  freeForm: ReadonlySet<string>,
  path: Path = [],
): Path[] {
  if (Array.isArray(value))
    return value.flatMap((item, i) => objectPaths(item, freeForm, [...path, i]));
  if (typeof value !== "object" || value === null) return [];
  return [
    path,
    ...Object.entries(value).flatMap(([k, v]) =>
      freeForm.has(k) ? [] : objectPaths(v, freeForm, [...path, k]),
    ),
  ];
}
