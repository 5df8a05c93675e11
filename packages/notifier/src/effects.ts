import { childLogger, type Logger } from "@bluegreen/runtime";
import type { Delivery, DeliveryCommand, DeliveryInput } from "./decide.ts";
import type { Lane } from "./lane.ts";
import type { NotifierMetrics } from "./metrics.ts";
import type { Sink } from "./sinks/sink.ts";

export interface EffectsDeps {
  sinks: ReadonlyMap<string, Sink>;
  lanes: ReadonlyMap<string, Lane>;
  metrics: NotifierMetrics;
  logger: Logger;
}

/**
 * The notifier's commands against the world: schedule a delivery on its sink's lane, send it,
 * and count and log a settled one. Nothing here logs a header, a URL or a body.
 */
export class DeliveryEffects {
  private readonly logger: Logger;

  constructor(private readonly deps: EffectsDeps) {
    this.logger = childLogger(deps.logger, { component: "delivery" });
  }

  async carryOut(
    command: DeliveryCommand,
    delivery: Delivery,
    key: string,
  ): Promise<DeliveryInput | undefined> {
    switch (command.kind) {
      case "schedule":
        this.deps.lanes.get(delivery.sink)?.schedule(key, command.at);
        return undefined;
      case "send": {
        const sink = this.deps.sinks.get(delivery.sink);
        if (sink === undefined)
          return {
            kind: "answered",
            answer: { outcome: "final", result: "sink not configured" },
            ms: 0,
          };
        const started = performance.now();
        const answer = await sink.send(delivery.cloudEvent);
        const ms = performance.now() - started;
        this.deps.metrics.sent(delivery.sink, answer.outcome, ms / 1000);
        const lane = this.deps.lanes.get(delivery.sink);
        if (answer.outcome === "retry") lane?.failed();
        else lane?.succeeded();
        return { kind: "answered", answer, ms };
      }
      case "settled": {
        this.deps.metrics.settled(delivery.sink, command.status, command.ageMs);
        const fields = {
          sink: delivery.sink,
          eventId: delivery.eventId,
          event: delivery.event,
          service: delivery.service,
          tries: delivery.tries,
          result: delivery.lastResult,
          ageMs: command.ageMs,
        };
        if (command.status === "delivered") this.logger.debug(fields, command.note);
        else this.logger.warn(fields, `delivery failed: ${command.note}`);
        return undefined;
      }
    }
  }
}
