import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "@bluegreen/runtime";

/**
 * Drift while running: each owned upstream file is watched (its directory, since a file
 * replaced by rename ends a watch on the file itself), and every service is checked again
 * every `intervalMs` (what nginx serves changes without any file event; a missed event is
 * caught too). A burst of events is one check, a short moment after the last of them.
 */

export interface DriftWatchDeps {
  /** The services to watch and their upstream file, as they stand now. */
  files(): { service: string; file: string }[];
  /** Runs one service's check (in that service's turn, so never beside its switch). */
  check(service: string, why: "file" | "interval"): Promise<void>;
  intervalMs: number;
  logger: Logger;
}

/** How long after a file event the check runs (an editor writes in several steps). */
export const DRIFT_SETTLE_MS = 100;

export class DriftWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private interval: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: DriftWatchDeps) {}

  start(): void {
    this.rewatch();
    this.interval = setInterval(() => {
      this.rewatch();
      for (const { service } of this.deps.files()) this.run(service, "interval");
    }, this.deps.intervalMs);
    this.interval.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.interval);
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    await Promise.allSettled([...this.running]);
  }

  /** One watcher per directory that holds an owned file (services come and go). */
  private rewatch(): void {
    const byDir = new Map<string, { service: string; name: string }[]>();
    for (const { service, file } of this.deps.files()) {
      const dir = dirname(file);
      byDir.set(dir, [...(byDir.get(dir) ?? []), { service, name: basename(file) }]);
    }
    for (const [dir, watcher] of this.watchers) {
      if (!byDir.has(dir)) {
        watcher.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of byDir.keys()) {
      if (this.watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => {
          for (const owned of byDirNow(this.deps.files(), dir)) {
            if (name === null || name === owned.name || name.startsWith(`.${owned.name}`))
              this.soon(owned.service);
          }
        });
        watcher.on("error", (err) => {
          this.deps.logger.warn({ err, dir }, "drift watch lost; the periodic check goes on");
          watcher.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, watcher);
      } catch (err) {
        this.deps.logger.warn(
          { err, dir },
          "cannot watch the directory; the periodic check goes on",
        );
      }
    }
  }

  private soon(service: string): void {
    if (this.stopped) return;
    clearTimeout(this.pending.get(service));
    const timer = setTimeout(() => {
      this.pending.delete(service);
      this.run(service, "file");
    }, DRIFT_SETTLE_MS);
    timer.unref();
    this.pending.set(service, timer);
  }

  private run(service: string, why: "file" | "interval"): void {
    if (this.stopped) return;
    const done = this.deps
      .check(service, why)
      .catch((err) => this.deps.logger.error({ err, service }, "drift check failed"))
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }
}

function byDirNow(
  files: { service: string; file: string }[],
  dir: string,
): { service: string; name: string }[] {
  return files
    .filter((f) => dirname(f.file) === dir)
    .map((f) => ({ service: f.service, name: basename(f.file) }));
}
