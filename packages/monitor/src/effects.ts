import type { Bus, Logger } from "@bluegreen/runtime";
import type { WatchState } from "./decide/state.ts";
import type { Command, Input, PendingEvent } from "./decide.ts";
import type { MonitorMetrics } from "./metrics.ts";
import { createBesideSource, createSource, type SourceSettings } from "./sources/index.ts";
import { WatchLoop } from "./watch-loop.ts";

/**
 * `carryOut`: the watch's commands carried out against the world. Events go to the bus; the
 * measuring commands go to the service's watch loop (one per running watch, started on its
 * first task, ended by `cancel`); `confirm` feeds back `published` so the stored record drops
 * the events that are out.
 */

export interface EffectsDeps {
  readonly bus: Pick<Bus, "emit">;
  /** The transition runner: what the loops feed their answers to. */
  readonly apply: (service: string, input: Input) => Promise<unknown>;
  readonly sources: SourceSettings;
  readonly metrics: MonitorMetrics;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class Effects {
  private readonly loops = new Map<string, WatchLoop>();
  private stopped = false;

  constructor(private readonly deps: EffectsDeps) {}

  async carryOut(command: Command, state: WatchState, service: string): Promise<Input | undefined> {
    switch (command.kind) {
      case "publish":
        await this.publish(command.event);
        return undefined;
      case "confirm":
        return { kind: "published" };
      case "cancel":
        this.cancel(service, command.deploymentId);
        return undefined;
      case "baseline":
      case "check":
        if (command.deploymentId === state.deploymentId)
          this.loopFor(service, state)?.schedule(command);
        return undefined;
    }
  }

  /** The services whose watch is being measured now. */
  running(): string[] {
    return [...this.loops.keys()];
  }

  /** Ends every loop, waiting for the rounds under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    const loops = [...this.loops.values()];
    this.loops.clear();
    await Promise.all(loops.map((loop) => loop.stop()));
    this.deps.metrics.activeWatches(0);
  }

  private publish(event: PendingEvent): Promise<unknown> {
    const { name, service, deploymentId, id, data } = event;
    return this.deps.bus.emit(name, { service, deploymentId, id, data } as never);
  }

  private cancel(service: string, deploymentId: string): void {
    const loop = this.loops.get(service);
    if (loop === undefined || loop.deploymentId !== deploymentId) return;
    loop.cancel();
    this.loops.delete(service);
    this.deps.metrics.activeWatches(this.loops.size);
  }

  private loopFor(service: string, watch: WatchState): WatchLoop | undefined {
    if (this.stopped) return undefined;
    const running = this.loops.get(service);
    if (running?.deploymentId === watch.deploymentId) return running;
    running?.cancel();
    const metrics = this.deps.metrics;
    const settings: SourceSettings = {
      ...this.deps.sources,
      observe: (source, seconds) => metrics.sourceLatency(source, seconds),
    };
    const scope = { service, deploymentId: watch.deploymentId, instances: watch.instances };
    const loop = new WatchLoop(watch, {
      apply: (input) => this.deps.apply(service, input),
      source: createSource(watch.monitor, settings, watch.scrape, scope),
      beside: createBesideSource(watch.monitor, settings, scope),
      logger: this.deps.logger,
      ...(this.deps.now === undefined ? {} : { now: this.deps.now }),
    });
    this.loops.set(service, loop);
    metrics.activeWatches(this.loops.size);
    return loop;
  }
}
