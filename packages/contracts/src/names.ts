import { z } from "zod";
import { BgError } from "./errors.ts";

/** Service names: lowercase, digits and '-', starting with a letter, at most 63 characters. */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

export const serviceNameSchema = z
  .string()
  .regex(SERVICE_NAME_PATTERN, "service name must match ^[a-z][a-z0-9-]{0,62}$");

export function isServiceName(value: unknown): value is string {
  return typeof value === "string" && SERVICE_NAME_PATTERN.test(value);
}

export function assertServiceName(value: string): string {
  if (!isServiceName(value)) throw new BgError("BG_ERR_SERVICE_NAME_INVALID", { service: value });
  return value;
}

export const Color = { blue: "blue", green: "green" } as const;
export type Color = (typeof Color)[keyof typeof Color];
export const COLORS: readonly Color[] = [Color.blue, Color.green];
export const colorSchema = z.enum(["blue", "green"]);

export function otherColor(color: Color): Color {
  return color === Color.blue ? Color.green : Color.blue;
}

/** Agent ids (`switcher-nginx1`, `node-agent-emily-green`): like service names, plus '.' and '_'. */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const agentIdSchema = z
  .string()
  .regex(AGENT_ID_PATTERN, "agent id must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$");
