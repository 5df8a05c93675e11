import {
  BgError,
  type BgEvent,
  createEvent,
  EVENTS,
  type EventDataInput,
  type EventName,
  encodeEvent,
  eventNameOfType,
  eventSubject,
  MAX_EVENT_BYTES,
  parseEvent,
  STREAM_NAME,
} from "@bluegreen/contracts";
import { headers, type JetStreamClient, type JetStreamManager, type NatsConnection } from "nats";
import { DurableConsumer, type EventHandler, type RejectRequest } from "./consumer.ts";
import {
  backoffDelay,
  consumerName,
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_MAX_DELIVER,
  type DeliverFrom,
} from "./consumer-config.ts";
import { childLogger, type Logger } from "./logger.ts";
import { rejectionData, rejectionService } from "./rejection.ts";
import { sleep } from "./sleep.ts";
import { ensureStream, type StreamOptions } from "./streams.ts";

export interface BusOptions {
  nc: NatsConnection;
  /** The agent's role (`coordinator`, `switcher`, …) and id: the event `source` is built from them. */
  role: string;
  agentId: string;
  logger: Logger;
  /** When given, a consumer that finds the stream gone creates it again with these settings. */
  stream?: Pick<StreamOptions, "maxAgeMs" | "replicas">;
  /** Per-attempt publish acknowledgement timeout. Default 5 s. */
  publishTimeoutMs?: number;
  /** Publish attempts after the first (safe: the event id de-duplicates). Default 3. */
  publishRetries?: number;
}

export interface PublishResult {
  seq: number;
  /** True when the stream already held an event with this id (a retry). */
  duplicate: boolean;
}

export interface EmitOptions<N extends EventName> {
  service: string;
  data: EventDataInput<N>;
  deploymentId?: string | undefined;
  /** A deterministic id makes a repeated emit idempotent (the stream de-duplicates it). */
  id?: string;
}

export interface ConsumeOptions<N extends EventName> {
  /** Durable name; with each filter it names one consumer (see `consumerName`). */
  durable: string;
  /** Subjects, e.g. `filterSubject({ name: "deploy.started" })`; one consumer per filter. */
  filters: readonly string[];
  /** The event types handled; other valid events on the filters are acked and skipped. */
  expect: readonly N[];
  handler: EventHandler<N>;
  /** Where a consumer created now starts. Default `"new"`. */
  deliverPolicy?: DeliverFrom;
  ackWaitMs?: number;
  maxDeliver?: number;
  /** Messages handled at once per filter. Default 1. */
  concurrency?: number;
  pullExpiresMs?: number;
  nakBackoff?: { baseMs: number; maxMs: number };
}

export interface Consumption {
  /** The JetStream consumer names, one per filter. */
  readonly consumers: readonly string[];
  /** Stops pulling and waits for running handlers. */
  stop(): Promise<void>;
}

const EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence";

/** The stream refused a publish whose expected last sequence was not the stored one. */
export function isWrongLastSequence(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10071 || /wrong last sequence/i.test(String(e?.message));
}

/** `bluegreen/<role>/<agentId>`, the CloudEvents `source` of everything an agent emits. */
export function agentSource(role: string, agentId: string): string {
  return `bluegreen/${role}/${agentId}`;
}

/**
 * The typed event bus of an agent: publishes validated events to the BLUEGREEN stream (the
 * event id is the `Nats-Msg-Id`), and consumes them through durable pull consumers that
 * answer anything unparseable with an `agent.rejected` event.
 */
export class Bus {
  readonly source: string;
  readonly rejectedBy: string;
  readonly js: JetStreamClient;
  private readonly logger: Logger;
  private jsmPromise: Promise<JetStreamManager> | undefined;
  private readonly consumers = new Set<DurableConsumer<EventName>>();

  constructor(private readonly opts: BusOptions) {
    this.source = agentSource(opts.role, opts.agentId);
    this.rejectedBy = `${opts.role}/${opts.agentId}`.slice(0, 128);
    this.js = opts.nc.jetstream();
    this.logger = childLogger(opts.logger, { component: "bus" });
  }

  private jsm(): Promise<JetStreamManager> {
    this.jsmPromise ??= this.opts.nc.jetstreamManager().catch((err: unknown) => {
      this.jsmPromise = undefined;
      throw err;
    });
    return this.jsmPromise;
  }

  /**
   * Validates an event (schema, size, subject) and publishes it to the stream; retried on
   * timeouts, de-duplicated by its id. Fails with BG_ERR_EVENT_INVALID or BG_ERR_NATS_PUBLISH.
   */
  async publish(
    event: BgEvent,
    opts: {
      validated?: boolean;
      /**
       * Stored only if the last message on the event's subject has this sequence (0: none);
       * otherwise BG_ERR_NATS_PUBLISH at once. Keeps a chain of such events from forking.
       */
      expectLastSubjectSeq?: number;
    } = {},
  ): Promise<PublishResult> {
    const name = eventNameOfType(event.type);
    if (name === undefined)
      throw new BgError("BG_ERR_EVENT_UNKNOWN_TYPE", { type: String(event.type) });
    if (!EVENTS[name].audit) {
      throw new BgError("BG_ERR_EVENT_INVALID", {
        type: event.type,
        problems: "not audit material: it is written to KV, never to the stream",
      });
    }
    const subject = eventSubject(event.subject, name);
    const payload = encodeEvent(event);
    // An event built by createEvent was validated there; only its size is left to check.
    if (opts.validated === true) {
      if (payload.byteLength > MAX_EVENT_BYTES)
        throw new BgError("BG_ERR_EVENT_TOO_LARGE", {
          size: payload.byteLength,
          limit: MAX_EVENT_BYTES,
        });
    } else {
      const checked = parseEvent(payload, { subject });
      if (!checked.ok) throw checked.error;
    }
    const retries = this.opts.publishRetries ?? 3;
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt, { baseMs: 250, maxMs: 4_000 }));
      try {
        const h = headers();
        if (opts.expectLastSubjectSeq !== undefined)
          h.set(EXPECTED_LAST_SUBJECT_SEQ, String(opts.expectLastSubjectSeq));
        const ack = await this.js.publish(subject, payload, {
          msgID: event.id,
          expect: { streamName: STREAM_NAME },
          headers: h,
          timeout: this.opts.publishTimeoutMs ?? 5_000,
        });
        return { seq: ack.seq, duplicate: ack.duplicate };
      } catch (err) {
        lastError = err;
        if (this.opts.nc.isClosed() || isWrongLastSequence(err)) break;
        this.logger.debug({ subject, eventId: event.id, attempt, err }, "publish not acknowledged");
      }
    }
    throw new BgError(
      "BG_ERR_NATS_PUBLISH",
      { subject, reason: lastError instanceof Error ? lastError.message : String(lastError) },
      { cause: lastError },
    );
  }

  /** Creates an event from this agent (`source` = `bluegreen/<role>/<agentId>`) and publishes it. */
  async emit<N extends EventName>(
    name: N,
    opts: EmitOptions<N>,
  ): Promise<PublishResult & { event: BgEvent<N> }> {
    const event = createEvent(name, {
      service: opts.service,
      source: this.source,
      data: opts.data,
      deploymentId: opts.deploymentId,
      ...(opts.id === undefined ? {} : { id: opts.id }),
    });
    const result = await this.publish(event as BgEvent, { validated: true });
    return { ...result, event };
  }

  /** Publishes the coded `agent.rejected` answer to a message this agent could not accept. */
  async reject(req: RejectRequest): Promise<PublishResult> {
    const data = rejectionData({
      error: req.error,
      ...(req.issues === undefined ? {} : { issues: req.issues }),
      rejectedBy: this.rejectedBy,
      subject: req.subject,
      payload: req.payload,
      originalId: req.originalId,
      originalType: req.originalType,
    });
    const result = await this.emit("agent.rejected", {
      service: rejectionService(req.subject),
      data,
      deploymentId: req.deploymentId,
      id: req.id,
    });
    return { seq: result.seq, duplicate: result.duplicate };
  }

  /** Starts durable pull consumers, one per filter, all feeding `handler`. */
  async consume<N extends EventName>(opts: ConsumeOptions<N>): Promise<Consumption> {
    if (opts.filters.length === 0) throw new Error("consume needs at least one filter subject");
    const streamOpts = this.opts.stream;
    const started: DurableConsumer<N>[] = [];
    try {
      for (const filter of new Set(opts.filters)) {
        const consumer = new DurableConsumer<N>(
          {
            nc: this.opts.nc,
            js: this.js,
            jsm: () => this.jsm(),
            logger: this.opts.logger,
            reject: async (req) => {
              await this.reject(req);
            },
            ensureStream:
              streamOpts === undefined
                ? undefined
                : async () =>
                    ensureStream(await this.jsm(), { ...streamOpts, logger: this.logger }),
          },
          {
            durable: opts.durable,
            name: consumerName(opts.durable, filter),
            filter,
            expect: opts.expect,
            handler: opts.handler,
            deliver: opts.deliverPolicy ?? "new",
            ackWaitMs: opts.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
            maxDeliver: opts.maxDeliver ?? DEFAULT_MAX_DELIVER,
            concurrency: Math.max(1, opts.concurrency ?? 1),
            pullExpiresMs: Math.max(1_000, opts.pullExpiresMs ?? 10_000),
            nakBackoff: opts.nakBackoff ?? { baseMs: 1_000, maxMs: 30_000 },
          },
        );
        await consumer.start();
        started.push(consumer);
        this.consumers.add(consumer as unknown as DurableConsumer<EventName>);
      }
    } catch (err) {
      await Promise.all(started.map((c) => c.stop()));
      throw err;
    }
    return {
      consumers: started.map((c) => c.name),
      stop: async () => {
        await Promise.all(started.map((c) => c.stop()));
        for (const c of started) this.consumers.delete(c as unknown as DurableConsumer<EventName>);
      },
    };
  }

  /** Stops every consumer of this bus (running handlers finish first). */
  async stop(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    this.consumers.clear();
  }
}

export function createBus(opts: BusOptions): Bus {
  return new Bus(opts);
}
