import { BgError } from "@bluegreen/contracts";
import { createJson, updateJson } from "@bluegreen/runtime";
import type { KV } from "nats";
import {
  type Lease,
  LeaseVerdict,
  leaseSchema,
  leaseVerdict,
  newLease,
  releasedLease,
} from "./lease.ts";

/**
 * Leases in the locks bucket: the per-service deploy lock (key = service, holder = deployment
 * id) and the leader lease (key `_leader`, holder = coordinator id). Every write is a
 * compare-and-set; a lost race is read again and decided again.
 */

export interface ReadLease {
  lease: Lease | undefined;
  /** Undefined when the key does not exist (or was deleted). */
  revision: number | undefined;
}

export async function readLease(kv: KV, key: string): Promise<ReadLease> {
  const entry = await kv.get(key);
  if (entry === null || entry.operation !== "PUT")
    return { lease: undefined, revision: entry?.revision };
  let lease: Lease | undefined;
  try {
    lease = leaseSchema.parse(JSON.parse(new TextDecoder().decode(entry.value)));
  } catch {
    lease = undefined; // an unreadable lease is nobody's: it is overwritten by CAS
  }
  return { lease, revision: entry.revision };
}

async function write(
  kv: KV,
  key: string,
  lease: Lease,
  revision: number | undefined,
): Promise<number> {
  return revision === undefined ? createJson(kv, key, lease) : updateJson(kv, key, lease, revision);
}

const isConflict = (err: unknown) => err instanceof BgError && err.code === "BG_ERR_KV_CONFLICT";

export type AcquireResult =
  | { acquired: true; lease: Lease }
  | { acquired: false; holder: string; lease: Lease };

/**
 * Every write goes through here, so the last lease this coordinator wrote (or read) is kept
 * with its revision: a renewal or a release is one compare-and-set, no read. Another writer
 * makes that revision stale; the write then fails, and the lease is read and decided again.
 */
export class Leases {
  private readonly known = new Map<string, ReadLease>();

  constructor(
    private readonly kv: KV,
    /** The coordinator writing (`coordinator-1`). */
    private readonly by: string,
    private readonly ttlMs: number,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** The cached lease (or, never seen, "absent" — a create then tells), or a fresh read. */
  private async current(key: string, cached: boolean): Promise<ReadLease> {
    if (cached) return this.known.get(key) ?? { lease: undefined, revision: undefined };
    const read = await readLease(this.kv, key);
    this.known.set(key, read);
    return read;
  }

  /** Takes the lease for `holder` when it is free or already its own (then it is renewed). */
  async acquire(key: string, holder: string): Promise<AcquireResult> {
    for (let attempt = 0; ; attempt++) {
      const cached = attempt === 0;
      const { lease, revision } = await this.current(key, cached);
      const now = this.clock();
      const verdict = leaseVerdict(lease, holder, now);
      if (verdict === LeaseVerdict.busy && lease !== undefined) {
        if (cached) continue; // what we knew may be old: read, then decide
        return { acquired: false, holder: lease.holder, lease };
      }
      const next = newLease(holder, this.by, now, this.ttlMs, lease);
      try {
        const written = await write(this.kv, key, next, revision);
        this.known.set(key, { lease: next, revision: written });
        return { acquired: true, lease: next };
      } catch (err) {
        this.known.delete(key);
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
  }

  /** Extends the lease if `holder` still has it; false when someone else took it meanwhile. */
  async renew(key: string, holder: string): Promise<boolean> {
    // A renewal never takes a lease that was released or lapsed meanwhile: that would hold a
    // finished deployment's lock again and turn the next deploy away as busy.
    for (let attempt = 0; ; attempt++) {
      const { lease, revision } = await this.current(key, attempt === 0 && this.known.has(key));
      if (leaseVerdict(lease, holder, this.clock()) !== LeaseVerdict.mine) {
        if (attempt === 0) continue; // what we knew may be old: read, then decide
        return false;
      }
      const next = newLease(holder, this.by, this.clock(), this.ttlMs, lease);
      try {
        const written = await write(this.kv, key, next, revision);
        this.known.set(key, { lease: next, revision: written });
        return true;
      } catch (err) {
        this.known.delete(key);
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
  }

  /** Gives the lease back if `holder` has it; anything else is left alone. */
  async release(key: string, holder: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const { lease, revision } = await this.current(key, attempt === 0 && this.known.has(key));
      if (lease === undefined || lease.holder !== holder || lease.releasedAt !== undefined)
        return false;
      const next = releasedLease(lease, this.clock());
      try {
        const written = await write(this.kv, key, next, revision);
        this.known.set(key, { lease: next, revision: written });
        return true;
      } catch (err) {
        this.known.delete(key);
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
  }

  async read(key: string): Promise<Lease | undefined> {
    return (await this.current(key, false)).lease;
  }
}
