import { type CasRead, type CasResult, casUpdate } from "@bluegreen/runtime";
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

/** A lease as read: undefined when the key is absent, deleted or unreadable. */
export type ReadLease = CasRead<Lease>;

export async function readLease(kv: KV, key: string): Promise<ReadLease> {
  const entry = await kv.get(key);
  if (entry === null || entry.operation !== "PUT")
    return { value: undefined, revision: entry?.revision };
  let lease: Lease | undefined;
  try {
    lease = leaseSchema.parse(JSON.parse(new TextDecoder().decode(entry.value)));
  } catch {
    lease = undefined; // an unreadable lease is nobody's: it is overwritten by CAS
  }
  return { value: lease, revision: entry.revision };
}

export type AcquireResult =
  | { acquired: true; lease: Lease }
  | { acquired: false; holder: string; lease: Lease };

/** The lease next written, or undefined to leave it as it is. */
type Next = (lease: Lease | undefined, now: Date) => Lease | undefined;

const ABSENT: ReadLease = { value: undefined, revision: undefined };

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

  /** Takes the lease for `holder` when it is free or already its own (then it is renewed). */
  async acquire(key: string, holder: string): Promise<AcquireResult> {
    // Never seen, the lease is taken for absent: the create then tells.
    const result = await this.write(key, { fromKnown: true, recheck: true }, (lease, now) =>
      leaseVerdict(lease, holder, now) === LeaseVerdict.busy
        ? undefined
        : newLease(holder, this.by, now, this.ttlMs, lease),
    );
    if (result.changed) return { acquired: true, lease: result.value };
    const lease = result.value as Lease; // only a lease someone holds refuses
    return { acquired: false, holder: lease.holder, lease };
  }

  /** Extends the lease if `holder` still has it; false when someone else took it meanwhile. */
  async renew(key: string, holder: string): Promise<boolean> {
    // A renewal never takes a lease that was released or lapsed meanwhile: that would hold a
    // finished deployment's lock again and turn the next deploy away as busy.
    const result = await this.write(
      key,
      { fromKnown: this.known.has(key), recheck: true },
      (lease, now) =>
        leaseVerdict(lease, holder, now) === LeaseVerdict.mine
          ? newLease(holder, this.by, now, this.ttlMs, lease)
          : undefined,
    );
    return result.changed;
  }

  /** Gives the lease back if `holder` has it; anything else is left alone. */
  async release(key: string, holder: string): Promise<boolean> {
    const result = await this.write(
      key,
      { fromKnown: this.known.has(key), recheck: false },
      (lease, now) =>
        lease === undefined || lease.holder !== holder || lease.releasedAt !== undefined
          ? undefined
          : releasedLease(lease, now),
    );
    return result.changed;
  }

  async read(key: string): Promise<Lease | undefined> {
    return (await this.fresh(key)).value;
  }

  private async fresh(key: string): Promise<ReadLease> {
    const read = await readLease(this.kv, key);
    this.known.set(key, read);
    return read;
  }

  /**
   * One compare-and-set of a lease (`casUpdate`), `next` deciding on the lease as it stands.
   * `fromKnown`: the first decision is on the lease last known, without a read; `recheck`: a
   * refusal decided on it may be old news, so the lease is then read and decided again.
   */
  private async write(
    key: string,
    how: { fromKnown: boolean; recheck: boolean },
    next: Next,
  ): Promise<CasResult<Lease>> {
    let read = false;
    const update = (known?: ReadLease) =>
      casUpdate<Lease>(this.kv, key, (lease) => next(lease, this.clock()), {
        ...(known === undefined ? {} : { known }),
        read: () => {
          read = true;
          return this.fresh(key);
        },
      });
    try {
      let result = await update(how.fromKnown ? (this.known.get(key) ?? ABSENT) : undefined);
      if (!result.changed && how.recheck && !read) result = await update();
      if (result.changed) this.known.set(key, { value: result.value, revision: result.revision });
      return result;
    } catch (err) {
      this.known.delete(key);
      throw err;
    }
  }
}
