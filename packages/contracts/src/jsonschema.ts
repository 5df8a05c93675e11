import { z } from "zod";
import { agentConfigSchema } from "./config/agents.ts";
import { serviceDefinitionSchema } from "./config/service.ts";
import { eventSchema } from "./envelope.ts";
import { EVENT_NAMES, type EventName } from "./events/index.ts";

/** JSON Schema (draft 2020-12) of one event, as CI tools validate a `nats pub` payload. */
export function eventJsonSchema(name: EventName): Record<string, unknown> {
  return {
    $id: `https://bluegreen.dev/schemas/events/${name}.json`,
    title: `bluegreen.${name}`,
    ...z.toJSONSchema(eventSchema(name), { io: "input", unrepresentable: "any" }),
  };
}

export function serviceDefinitionJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://bluegreen.dev/schemas/service-definition.json",
    title: "bluegreen service definition",
    ...z.toJSONSchema(serviceDefinitionSchema, { io: "input", unrepresentable: "any" }),
  };
}

export function agentConfigJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://bluegreen.dev/schemas/agent-config.json",
    title: "bluegreen agent config",
    ...z.toJSONSchema(agentConfigSchema, { io: "input", unrepresentable: "any" }),
  };
}

/** Every exported schema by file name under `docs/schemas/`. */
export function allJsonSchemas(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {
    "service-definition.json": serviceDefinitionJsonSchema(),
    "agent-config.json": agentConfigJsonSchema(),
  };
  for (const name of EVENT_NAMES) out[`events/${name}.json`] = eventJsonSchema(name);
  return out;
}
