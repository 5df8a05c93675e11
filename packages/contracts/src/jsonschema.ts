import { z } from "zod";
import { dataschemaUri, lenient, newerDataschemaPattern } from "./compat.ts";
import { agentConfigSchema } from "./config/agents.ts";
import { serviceDefinitionSchema } from "./config/service.ts";
import { ATTRIBUTE_NAME_PATTERN, eventSchema } from "./envelope.ts";
import { EVENT_NAMES, EVENTS, type EventName } from "./events/index.ts";

/**
 * JSON Schemas (draft 2020-12) of what the runtime accepts, for editors and CI: strict objects
 * are `additionalProperties: false`, short forms are alternatives, patterns carry the rules a
 * pattern can say. Only checks across fields that JSON Schema cannot express stay runtime-only:
 * the same node in both colours, two smoke checks with one name.
 */

type JsonSchema = Record<string, unknown>;

const toJson = (schema: z.core.$ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;

/** A sub-schema (no `$schema` of its own); its `$defs`, if any, move to the root. */
function sub(schema: z.core.$ZodType): JsonSchema {
  const { $schema: _, ...rest } = toJson(schema);
  if (rest.$defs !== undefined) throw new Error("event data schemas must not need $defs");
  return rest;
}

/**
 * One event as the runtime reads it: the envelope with CloudEvents extension attributes, and
 * `data` strict, unless `dataschema` names a newer minor version (then unknown keys are
 * ignored and any well-formed error code is read; docs/events.md, "Versions and compatibility").
 */
export function eventJsonSchema(name: EventName): JsonSchema {
  const envelope = toJson(eventSchema(name));
  const properties = { ...(envelope.properties as Record<string, JsonSchema>) };
  properties.data = { type: "object" };
  const data = EVENTS[name].data;
  return {
    $schema: envelope.$schema,
    $id: dataschemaUri(name),
    title: `bluegreen.${name}`,
    ...envelope,
    properties,
    propertyNames: { pattern: ATTRIBUTE_NAME_PATTERN.source },
    if: {
      properties: { dataschema: { pattern: newerDataschemaPattern(name) } },
      required: ["dataschema"],
    },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, never awaited
    then: { properties: { data: sub(lenient(data)) } },
    else: { properties: { data: sub(data) } },
  };
}

export function serviceDefinitionJsonSchema(): JsonSchema {
  return {
    $id: "https://bluegreen.dev/schemas/service-definition.json",
    title: "bluegreen service definition",
    ...toJson(serviceDefinitionSchema),
  };
}

export function agentConfigJsonSchema(): JsonSchema {
  return {
    $id: "https://bluegreen.dev/schemas/agent-config.json",
    title: "bluegreen agent config",
    ...toJson(agentConfigSchema),
  };
}

/** Every exported schema by file name under `docs/schemas/`. */
export function allJsonSchemas(): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {
    "service-definition.json": serviceDefinitionJsonSchema(),
    "agent-config.json": agentConfigJsonSchema(),
  };
  for (const name of EVENT_NAMES) out[`events/${name}.json`] = eventJsonSchema(name);
  return out;
}
