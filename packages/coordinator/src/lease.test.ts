import { describe, expect, it } from "vitest";
import { leaseVerdict, newLease, releasedLease } from "./lease.ts";

const t0 = new Date("2026-11-26T10:00:00.000Z");
const later = (ms: number) => new Date(t0.getTime() + ms);

describe("lease", () => {
  it("is free when absent, mine for its holder, busy for others until it expires", () => {
    const lease = newLease("d-1", "coordinator-a", t0, 15_000);
    expect(leaseVerdict(undefined, "d-1", t0)).toBe("free");
    expect(leaseVerdict(lease, "d-1", later(1_000))).toBe("mine");
    expect(leaseVerdict(lease, "d-2", later(14_999))).toBe("busy");
    expect(leaseVerdict(lease, "d-2", later(15_000))).toBe("free");
  });

  it("is free once released, and a renewal keeps the term and the acquisition time", () => {
    const lease = newLease("d-1", "coordinator-a", t0, 15_000);
    expect(leaseVerdict(releasedLease(lease, later(10)), "d-2", later(20))).toBe("free");
    const renewed = newLease("d-1", "coordinator-a", later(5_000), 15_000, lease);
    expect(renewed).toMatchObject({ acquiredAt: lease.acquiredAt, term: lease.term });
    expect(Date.parse(renewed.expiresAt)).toBe(later(20_000).getTime());
    const taken = newLease("d-2", "coordinator-b", later(16_000), 15_000, lease);
    expect(taken.term).toBe(lease.term + 1);
  });
});
