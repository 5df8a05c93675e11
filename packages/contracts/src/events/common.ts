import { z } from "zod";
import { ERROR_CODES, isErrorCode } from "../errors.ts";
import { colorSchema } from "../names.ts";

/** Bounded free text, so no event can grow past the size limit through one field. */
export const text = (max: number) => z.string().max(max);

/** A node as it appears in events: `host:port`. */
export const nodeIdSchema = z
  .string()
  .min(3)
  .max(300)
  .regex(/^[^\s:]+:\d{1,5}$/, "expected host:port");

export const nodeRefSchema = z.strictObject({
  host: z.string().min(1).max(253),
  port: z.int().min(1).max(65535),
});
export type NodeRef = z.infer<typeof nodeRefSchema>;

export function nodeId(node: NodeRef): string {
  return `${node.host}:${node.port}`;
}

/** A code of the catalogue (the exported JSON Schema lists them). */
export const errorCodeSchema = z
  .string()
  .refine(isErrorCode, "unknown error code")
  .meta({ enum: ERROR_CODES });

/** A coded error as it travels inside an event. */
export const errorInfoSchema = z.strictObject({
  code: errorCodeSchema,
  message: text(2048),
  retryable: z.boolean(),
});
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

export const durationMsSchema = z.number().min(0);
export const optionalColorSchema = colorSchema.nullable();
export const byWhomSchema = text(128);
