import type { Logger } from "@bluegreen/runtime";
import { leaseVerdict } from "./lease.ts";
import type { Leases } from "./lock.ts";

/** The leader lease's key in the locks bucket (no service can be called `_leader`). */
export const LEADER_KEY = "_leader";

export interface LeaderEvents {
  elected(): Promise<void>;
  deposed(reason: string): Promise<void>;
}

/**
 * Leader election through a KV lease. Every `ttl/4` the leader renews and a standby checks
 * whether the lease expired; a standby takes over within the lease time after the leader
 * stops renewing. A leader that cannot renew (partitioned, paused) steps down; if it acts
 * meanwhile, compare-and-set on the deployment records and fenced switches make it harmless.
 */
export class LeaderElection {
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private expiresAt = 0;
  private ticking: Promise<void> = Promise.resolve();
  /**
   * Taking over and stepping down run here, one after the other, apart from the ticks: a
   * long take-over (recovering every deployment in flight) must not hold back the renewals.
   */
  private transitions: Promise<void> = Promise.resolve();
  private stopped = false;
  private unwinding = false;

  constructor(
    private readonly leases: Leases,
    private readonly id: string,
    private readonly ttlMs: number,
    private readonly events: LeaderEvents,
    private readonly logger: Logger,
  ) {}

  /** True while this coordinator holds an unexpired lease. */
  isLeader(): boolean {
    return this.leading && Date.now() < this.expiresAt;
  }

  /** Campaigns; when this coordinator is elected at once, returns after it took over. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(
      () => {
        this.ticking = this.ticking.then(() => this.tick());
      },
      Math.max(200, Math.floor(this.ttlMs / 4)),
    );
    await this.transitions;
  }

  /** Stops campaigning; a leader gives the lease back so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    await this.transitions;
    if (this.leading) {
      this.leading = false;
      await this.events.deposed("shutting down").catch(() => undefined);
      await this.leases.release(LEADER_KEY, this.id).catch(() => undefined);
      this.logger.info("leader lease released");
    }
  }

  private async tick(): Promise<void> {
    // While a failed take-over gives the lease back, campaigning would win it again just
    // before the release and leave two coordinators believing they lead.
    if (this.stopped || this.unwinding) return;
    try {
      const startedAt = Date.now();
      const result = await this.leases.acquire(LEADER_KEY, this.id);
      if (this.unwinding) return; // acquired before the release went out: not leading
      if (result.acquired) {
        this.expiresAt = startedAt + this.ttlMs;
        if (!this.leading) {
          this.leading = true;
          this.logger.info({ term: result.lease.term, ttlMs: this.ttlMs }, "elected leader");
          this.transition(() => this.takeOver());
        }
        return;
      }
      if (this.leading) {
        this.leading = false;
        this.logger.error(
          { holder: result.holder },
          "leader lease taken by another coordinator; stepping down",
        );
        this.transition(() => this.events.deposed(`lease held by ${result.holder}`));
      } else if (leaseVerdict(result.lease, this.id, new Date()) === "busy") {
        this.logger.debug({ leader: result.holder }, "standing by");
      }
    } catch (err) {
      this.logger.warn({ err }, "leader lease check failed");
      if (this.leading && Date.now() >= this.expiresAt) {
        this.leading = false;
        this.logger.error("leader lease could not be renewed before it expired; stepping down");
        this.transition(() => this.events.deposed("lease expired"));
      }
    }
  }

  private transition(step: () => Promise<void>): void {
    this.transitions = this.transitions
      .then(step)
      .catch((err: unknown) => this.logger.error({ err }, "leadership change failed"));
  }

  private async takeOver(): Promise<void> {
    if (!this.leading) return; // lost the lease again before the take-over began
    try {
      await this.events.elected();
    } catch (err) {
      // Holding the lease without consuming would stall every deployment: step down and
      // let the next tick (here or on a standby) try again.
      this.logger.error({ err }, "taking over as leader failed; stepping down");
      this.unwinding = true;
      try {
        this.leading = false;
        await this.events.deposed("take-over failed").catch(() => undefined);
        await this.leases.release(LEADER_KEY, this.id).catch(() => undefined);
      } finally {
        this.unwinding = false;
      }
    }
  }
}
