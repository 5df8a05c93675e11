/**
 * One sink's queue of due deliveries: its own timers, its own sends in flight (at most
 * `concurrency`), its own pace (at most `ratePerSecond`, a burst spread out). Lanes share
 * nothing, so a slow or dead sink never holds back another. A sink that answers "try later"
 * (5xx, 429, timeout, refused) pauses its lane with an exponential backoff, and the lane then
 * probes with one send at a time until one gets through: the backlog of a dead sink waits
 * instead of each of its deliveries knocking (and spending a try) on its own.
 */
export interface LaneOptions {
  ratePerSecond: number;
  concurrency: number;
  /** The first pause after a failed send; doubles per failure in a row up to `pauseMaxMs`. */
  pauseMs: number;
  pauseMaxMs: number;
  /** Handles one due key (the runner's "due" step: send, record, schedule a retry). */
  run(key: string): Promise<void>;
  onError(key: string, err: unknown): void;
}

export class Lane {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly ready: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private inFlight = 0;
  private nextSlot = 0;
  private paceTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private pausedUntil = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: LaneOptions) {}

  /** Deliveries waiting or in flight. */
  get size(): number {
    return this.timers.size + this.queued.size + this.inFlight;
  }

  /** Makes `key` due at `at` (epoch ms); a key already waiting keeps one turn. */
  schedule(key: string, at: number): void {
    if (this.stopped || this.queued.has(key)) return;
    const timer = this.timers.get(key);
    if (timer !== undefined) clearTimeout(timer);
    const delay = at - Date.now();
    if (delay <= 0) {
      this.timers.delete(key);
      this.enqueue(key);
      return;
    }
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.enqueue(key);
      }, delay),
    );
  }

  private enqueue(key: string): void {
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.ready.push(key);
    this.pump();
  }

  /** A send got through: the lane runs at full width again. */
  succeeded(): void {
    this.failures = 0;
  }

  /** A send was answered "try later": the lane pauses, then probes one at a time. */
  failed(): void {
    this.failures++;
    const pause = Math.min(this.opts.pauseMaxMs, this.opts.pauseMs * 2 ** (this.failures - 1));
    this.pausedUntil = Math.max(
      this.pausedUntil,
      Date.now() + Math.round(pause * (0.8 + 0.2 * Math.random())),
    );
  }

  private pump(): void {
    const width = () => (this.failures > 0 ? 1 : this.opts.concurrency);
    while (!this.stopped && this.inFlight < width() && this.ready.length > 0) {
      const now = Date.now();
      const slot = Math.max(this.nextSlot, this.pausedUntil);
      if (slot > now) {
        if (this.paceTimer === undefined)
          this.paceTimer = setTimeout(() => {
            this.paceTimer = undefined;
            this.pump();
          }, slot - now);
        return;
      }
      this.nextSlot = Math.max(this.nextSlot, now - 1_000) + 1_000 / this.opts.ratePerSecond;
      const key = this.ready.shift() as string;
      // A key whose previous turn still runs waits for it (the runner keeps one step per key).
      this.queued.delete(key);
      this.inFlight++;
      this.running.add(key);
      this.opts
        .run(key)
        .catch((err: unknown) => this.opts.onError(key, err))
        .finally(() => {
          this.inFlight--;
          this.running.delete(key);
          this.pump();
          if (this.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
        });
    }
  }

  /** Resolves when nothing waits or runs. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops every timer and waits for the sends in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (this.paceTimer !== undefined) clearTimeout(this.paceTimer);
    this.ready.length = 0;
    this.queued.clear();
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  }
}
