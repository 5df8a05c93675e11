import { readFileSync } from "node:fs";
import { BgError } from "@bluegreen/contracts";

/** A secret as the config names it: a file or an environment variable, never the value. */
export interface SecretRef {
  file?: string | undefined;
  env?: string | undefined;
}

/** Reads a secret at start-up (a trailing newline trimmed); a missing one stops the start. */
export function readSecret(ref: SecretRef, what: string, env = process.env): string {
  if (ref.file !== undefined) {
    try {
      return readFileSync(ref.file, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new BgError("BG_ERR_CONFIG_INVALID", {
        problems: `${what}: cannot read ${ref.file} (${reason})`,
      });
    }
  }
  const value = ref.env === undefined ? undefined : env[ref.env];
  if (value === undefined || value === "")
    throw new BgError("BG_ERR_CONFIG_INVALID", {
      problems: `${what}: environment variable ${ref.env ?? "(none)"} is not set`,
    });
  return value;
}
