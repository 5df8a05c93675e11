import { sleep } from "@bluegreen/runtime";

/**
 * Spaces nginx reloads. After a reload nginx's master starts new workers, pauses 100 ms, and
 * only then tells the old workers to stop accepting. A verification that started during that
 * pause could be answered by a worker from two reloads ago — which, after two quick switches,
 * points at the very colour being verified. With the reloads 150 ms apart, those workers have
 * stopped accepting before the next verification starts, so an answer from the target colour
 * comes from the new workers even when the site config adds no generation header. Switches
 * are seldom that close; when they are, nginx is still busy with the previous reload anyway.
 */
export const MIN_RELOAD_GAP_MS = 150;

export class ReloadPacer {
  private last = Number.NEGATIVE_INFINITY;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly gapMs = MIN_RELOAD_GAP_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Resolves when a reload may be sent, and counts it as sent. */
  turn(): Promise<void> {
    const mine = this.queue.then(async () => {
      const wait = this.last + this.gapMs - this.now();
      if (wait > 0) await sleep(wait);
      this.last = this.now();
    });
    this.queue = mine;
    return mine;
  }
}
