import { z } from "zod";

/**
 * A lease in KV (no per-key TTL on nats-server 2.9): a holder, what it holds it for, and an
 * expiry, renewed by the living holder and reclaimable by compare-and-set once expired.
 * Used for the per-service deploy lock and the coordinator leader lease.
 */
export const leaseSchema = z.object({
  /** Who holds it: the deployment id (service lock) or the coordinator's agent id (leader). */
  holder: z.string().max(128),
  /** The coordinator that wrote it. */
  by: z.string().max(128),
  acquiredAt: z.iso.datetime({ offset: true }),
  expiresAt: z.iso.datetime({ offset: true }),
  /** Set when the holder gave it back; a released lease is free. */
  releasedAt: z.iso.datetime({ offset: true }).optional(),
  /** Leader leases count terms, so a log shows each change of leader. */
  term: z.int().min(0).default(0),
});
export type Lease = z.infer<typeof leaseSchema>;

export const LeaseVerdict = { free: "free", mine: "mine", busy: "busy" } as const;
export type LeaseVerdict = (typeof LeaseVerdict)[keyof typeof LeaseVerdict];

/** Who may write the lease now: free (absent, released or expired), mine, or busy. */
export function leaseVerdict(lease: Lease | undefined, holder: string, now: Date): LeaseVerdict {
  if (lease === undefined || lease.releasedAt !== undefined) return LeaseVerdict.free;
  if (lease.holder === holder) return LeaseVerdict.mine;
  return Date.parse(lease.expiresAt) <= now.getTime() ? LeaseVerdict.free : LeaseVerdict.busy;
}

export function newLease(
  holder: string,
  by: string,
  now: Date,
  ttlMs: number,
  previous?: Lease,
): Lease {
  const same =
    previous !== undefined && previous.releasedAt === undefined && previous.holder === holder;
  return {
    holder,
    by,
    acquiredAt: same ? previous.acquiredAt : now.toISOString(),
    expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
    term: same ? previous.term : (previous?.term ?? 0) + 1,
  };
}

export function releasedLease(lease: Lease, now: Date): Lease {
  return { ...lease, expiresAt: now.toISOString(), releasedAt: now.toISOString() };
}
