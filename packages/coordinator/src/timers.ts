/** The longest delay setTimeout takes; longer deadlines are re-armed in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * One timer per deployment for its current phase deadline. The deadline itself lives in the
 * stored state, so a restarted coordinator arms the same timers again.
 */
export class DeadlineTimers {
  private readonly timers = new Map<string, { at: string; timer: NodeJS.Timeout }>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** Arms (or keeps) the timer of `key` for `at`; `fire` runs once when it is due. */
  arm(key: string, at: string, fire: () => void, notBefore = 0): void {
    const existing = this.timers.get(key);
    if (existing?.at === at) return;
    this.disarm(key);
    const due = Math.max(Date.parse(at), notBefore);
    const schedule = () => {
      const delay = Math.max(0, due - this.clock());
      const timer = setTimeout(
        () => {
          if (due - this.clock() > 0) return schedule();
          this.timers.delete(key);
          fire();
        },
        Math.min(delay, MAX_DELAY_MS),
      );
      timer.unref?.();
      this.timers.set(key, { at, timer });
    };
    schedule();
  }

  disarm(key: string): void {
    const existing = this.timers.get(key);
    if (existing !== undefined) clearTimeout(existing.timer);
    this.timers.delete(key);
  }

  clear(): void {
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  get size(): number {
    return this.timers.size;
  }
}
