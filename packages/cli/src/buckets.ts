import { type Bucket, isServiceName } from "@bluegreen/contracts";
import type { JetStreamClient, KV } from "nats";
import { usageError } from "./args.ts";

/** Opens an existing bucket without creating it; undefined when nothing was ever stored. */
export async function openBucket(js: JetStreamClient, bucket: Bucket): Promise<KV | undefined> {
  try {
    const kv = await js.views.kv(bucket, { bindOnly: true });
    await kv.status();
    return kv;
  } catch (err) {
    if (err instanceof Error && /not found/i.test(err.message)) return undefined;
    throw err;
  }
}

export function serviceArg(value: string): string {
  if (!isServiceName(value))
    throw usageError(`'${value}' is not a service name (^[a-z][a-z0-9-]{0,62}$)`);
  return value;
}
