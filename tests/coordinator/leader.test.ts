// Leader election over a real nats-server's KV: two coordinators' elections, one lease.

import { Buckets } from "@bluegreen/contracts";
import { LEADER_KEY, LeaderElection, Leases } from "@bluegreen/coordinator";
import { createLogger, ensureBuckets } from "@bluegreen/runtime";
import { type NatsServer, startNats } from "@bluegreen/testkit";
import { connect, type KV, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const TTL_MS = 800;
const logger = createLogger({ level: "silent" });

let nats: NatsServer;
let nc: NatsConnection;
let locks: KV;

beforeAll(async () => {
  nats = await startNats({ jetstream: true });
  nc = await connect({ servers: nats.url });
  await ensureBuckets(nc.jetstream(), { replicas: 1 });
  locks = await nc.jetstream().views.kv(Buckets.locks);
});
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("leader election", () => {
  it("given a take-over that lasts three lease times, when a standby campaigns meanwhile, then the lease stays renewed and the standby never leads", async () => {
    const log: string[] = [];
    let takeOverDone = false;
    /** Coordinator `n`'s election: logs its turns; `whenElected` is its take-over. */
    const election = (n: number, whenElected: () => Promise<void> = async () => {}) =>
      new LeaderElection(
        new Leases(locks, `coordinator-${n}`, TTL_MS),
        `coordinator-${n}`,
        TTL_MS,
        {
          elected: async () => {
            log.push(`${n} elected`);
            await whenElected();
          },
          deposed: async (reason) => {
            log.push(`${n} deposed: ${reason}`);
          },
        },
        logger,
      );
    const first = election(1, async () => {
      await sleep(3 * TTL_MS); // recovering many deployments in flight
      takeOverDone = true;
    });
    const second = election(2);
    const starting = first.start();
    await expect.poll(() => log.includes("1 elected"), { timeout: 5_000 }).toBe(true);
    await second.start();
    try {
      await starting;
      expect(takeOverDone).toBe(true);
      await sleep(2 * TTL_MS);
      expect(log).toEqual(["1 elected"]);
      expect(first.isLeader()).toBe(true);
      expect(second.isLeader()).toBe(false);
    } finally {
      await second.stop();
      await first.stop();
    }
    // Stopping gives the lease back at once.
    expect(log).toEqual(["1 elected", "1 deposed: shutting down"]);
    const entry = await locks.get(LEADER_KEY);
    expect(JSON.parse(new TextDecoder().decode(entry?.value)).releasedAt).toBeDefined();
  }, 20_000);
});
