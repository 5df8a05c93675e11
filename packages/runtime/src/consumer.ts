import {
  BgError,
  type BgEvent,
  type EventName,
  eventNameOfType,
  type Issue,
  parseEvent,
  STREAM_NAME,
} from "@bluegreen/contracts";
import type { Consumer, JetStreamClient, JetStreamManager, JsMsg, NatsConnection } from "nats";
import {
  backoffDelay,
  consumerConfig,
  consumerUpdates,
  type DeliverFrom,
  rejectionId,
} from "./consumer-config.ts";
import { childLogger, type Logger } from "./logger.ts";
import { isRejectionSubject } from "./rejection.ts";
import { sleep } from "./sleep.ts";
import { isNotFound } from "./streams.ts";

export interface HandlerContext {
  /** True when JetStream delivered this message before (a handler must be idempotent). */
  redelivered: boolean;
  deliveryCount: number;
  subject: string;
  streamSequence: number;
  /** Carries component, service, deploymentId, eventId. */
  logger: Logger;
}

export type EventHandler<N extends EventName> = (
  event: BgEvent<N>,
  ctx: HandlerContext,
) => Promise<void> | void;

export interface RejectRequest {
  error: BgError;
  issues?: readonly Issue[];
  subject: string;
  payload: Uint8Array;
  originalId?: string | undefined;
  originalType?: string | undefined;
  deploymentId?: string | undefined;
  /** Deterministic id, so a redelivered bad message is rejected once. */
  id: string;
}

/** What a consumer needs from the bus it belongs to. */
export interface ConsumerDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: () => Promise<JetStreamManager>;
  logger: Logger;
  reject: (req: RejectRequest) => Promise<void>;
  /** Re-creates the stream when it is gone (a server that lost its store). */
  ensureStream?: (() => Promise<unknown>) | undefined;
}

export interface DurableConsumerSettings<N extends EventName> {
  durable: string;
  name: string;
  filter: string;
  expect: readonly N[];
  handler: EventHandler<N>;
  deliver: DeliverFrom;
  ackWaitMs: number;
  maxDeliver: number;
  concurrency: number;
  /** How long one pull waits for a message before asking again (≥ 1 s). */
  pullExpiresMs: number;
  nakBackoff: { baseMs: number; maxMs: number };
}

const STOPPED = Symbol("stopped");
/** A poll that came back empty proves delivery up to now; leave room for clock skew. */
const CLOCK_SKEW_MS = 5_000;

/**
 * One durable pull consumer on BLUEGREEN for one filter subject, worked by `concurrency`
 * loops that each pull one message at a time. Survives server restarts (the pull is simply
 * repeated after the reconnect) and re-creates the consumer, or the stream, if the server lost
 * them, resuming from the last point known to be delivered.
 */
export class DurableConsumer<N extends EventName> {
  readonly name: string;
  private readonly logger: Logger;
  private consumer: Consumer | undefined;
  private stopping = false;
  private stopSignal!: () => void;
  private readonly stopped = new Promise<typeof STOPPED>((resolve) => {
    this.stopSignal = () => resolve(STOPPED);
  });
  private workers: Promise<void>[] = [];
  private recovering: Promise<void> | undefined;
  /** Everything before this instant was delivered to us (server time of messages, or polls). */
  private resumeFrom: Date | undefined;

  constructor(
    private readonly deps: ConsumerDeps,
    private readonly s: DurableConsumerSettings<N>,
  ) {
    this.name = s.name;
    this.logger = childLogger(deps.logger, {
      component: "consumer",
      consumer: s.name,
      filter: s.filter,
    });
  }

  async start(): Promise<void> {
    await this.ensure(this.s.deliver);
    if (this.s.deliver === "new") this.resumeFrom = new Date(Date.now() - CLOCK_SKEW_MS);
    this.workers = Array.from({ length: this.s.concurrency }, (_, i) =>
      this.work(i).catch((err: unknown) =>
        this.logger.error({ err, worker: i }, "consumer worker died"),
      ),
    );
    this.logger.info({ concurrency: this.s.concurrency, expect: this.s.expect }, "consuming");
  }

  /** Stops pulling, lets running handlers finish, and returns when every worker is done. */
  async stop(): Promise<void> {
    if (this.stopping) return Promise.all(this.workers).then(() => undefined);
    this.stopping = true;
    this.stopSignal();
    await Promise.all(this.workers);
    this.logger.info("consumer stopped");
  }

  private async ensure(deliver: DeliverFrom): Promise<void> {
    const jsm = await this.deps.jsm();
    const wanted = consumerConfig({
      name: this.s.name,
      filter: this.s.filter,
      deliver,
      ackWaitMs: this.s.ackWaitMs,
      maxDeliver: this.s.maxDeliver,
      description: `${this.s.durable}: ${this.s.filter}`,
    });
    try {
      const info = await jsm.consumers.info(STREAM_NAME, this.s.name);
      if (info.config.filter_subject !== this.s.filter) {
        throw new Error(`consumer ${this.s.name} exists with filter ${info.config.filter_subject}`);
      }
      const changes = consumerUpdates(info.config, wanted);
      if (changes !== undefined) {
        await jsm.consumers.update(STREAM_NAME, this.s.name, changes);
        this.logger.info({ changes: Object.keys(changes) }, "consumer settings updated");
      }
    } catch (err) {
      if (isNotFound(err, "stream") && this.deps.ensureStream !== undefined) {
        this.logger.warn("stream is gone; creating it again");
        await this.deps.ensureStream();
      } else if (!isNotFound(err, "consumer") && !isNotFound(err, "stream")) {
        throw err;
      }
      await jsm.consumers.add(STREAM_NAME, wanted);
      this.logger.info(
        { deliver: wanted.deliver_policy, startTime: wanted.opt_start_time },
        "consumer created",
      );
    }
    this.consumer = await this.deps.js.consumers.get(STREAM_NAME, this.s.name);
  }

  /** Called after a failed pull: re-create what the server lost; connection trouble just waits. */
  private recover(cause: unknown): Promise<void> {
    this.recovering ??= (async () => {
      try {
        const jsm = await this.deps.jsm();
        await jsm.consumers.info(STREAM_NAME, this.s.name);
      } catch (err) {
        if (this.stopping || this.deps.nc.isClosed()) return;
        if (isNotFound(err, "consumer") || isNotFound(err, "stream")) {
          const deliver: DeliverFrom =
            this.resumeFrom === undefined ? this.s.deliver : { startTime: this.resumeFrom };
          this.logger.warn(
            { cause: String(cause), deliver },
            "consumer is gone; creating it again",
          );
          await this.ensure(deliver);
        }
      }
    })()
      .catch((err: unknown) => this.logger.warn({ err }, "consumer recovery failed; will retry"))
      .finally(() => {
        this.recovering = undefined;
      });
    return this.recovering;
  }

  private async work(worker: number): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      const consumer = this.consumer;
      if (consumer === undefined || this.deps.nc.isClosed()) break;
      let msg: JsMsg | null;
      try {
        const pull = consumer.next({ expires: this.s.pullExpiresMs });
        const first = await Promise.race([pull, this.stopped]);
        if (first === STOPPED) {
          // A message that still arrives for this pull goes straight back to the stream.
          pull.then((late) => late?.nak()).catch(() => undefined);
          break;
        }
        msg = first;
      } catch (err) {
        if (this.stopping || this.deps.nc.isClosed()) break;
        failures++;
        const log =
          failures === 1 ? this.logger.warn.bind(this.logger) : this.logger.debug.bind(this.logger);
        log(
          { worker, failures, reason: err instanceof Error ? err.message : String(err) },
          "pull failed",
        );
        await this.recover(err);
        await Promise.race([
          sleep(backoffDelay(failures, { baseMs: 250, maxMs: 5_000 })),
          this.stopped,
        ]);
        continue;
      }
      if (failures > 0) this.logger.info({ worker, failures }, "pulling again");
      failures = 0;
      if (msg === null) {
        const polled = new Date(Date.now() - CLOCK_SKEW_MS);
        if (this.resumeFrom !== undefined && polled > this.resumeFrom) this.resumeFrom = polled;
        continue;
      }
      try {
        await this.handle(msg);
      } catch (err) {
        // Never expected (handlers' errors are handled inside); the worker keeps going.
        this.logger.error({ err, worker }, "message handling failed");
      }
    }
  }

  /**
   * Acks, naks, terms or extends a message. On a closed or draining connection these throw;
   * the message is then simply redelivered later, so the failure is only logged.
   */
  private settle(msg: JsMsg, how: "ack" | "nak" | "term" | "working", delayMs?: number): void {
    try {
      if (how === "ack") msg.ack();
      else if (how === "nak") msg.nak(delayMs);
      else if (how === "term") msg.term();
      else msg.working();
    } catch (err) {
      this.logger.debug(
        { err, how, streamSequence: msg.info.streamSequence },
        "could not settle message",
      );
    }
  }

  private markDelivered(msg: JsMsg): void {
    const at = new Date(Math.floor(msg.info.timestampNanos / 1e6));
    if (this.resumeFrom === undefined || at > this.resumeFrom) this.resumeFrom = at;
  }

  private async handle(msg: JsMsg): Promise<void> {
    const { deliveryCount, streamSequence } = msg.info;
    const parsed = parseEvent(msg.data, { subject: msg.subject });
    if (!parsed.ok) {
      await this.rejectAndTerm(msg, {
        error: parsed.error,
        issues: parsed.issues,
        originalId: parsed.id,
        originalType: parsed.type,
        deploymentId: parsed.deploymentId,
      });
      return;
    }
    const event = parsed.event;
    const name = eventNameOfType(event.type);
    if (name === undefined || !(this.s.expect as readonly EventName[]).includes(name)) {
      // A valid event this consumer does not handle (a broad filter): not an error.
      this.logger.debug(
        { type: event.type, eventId: event.id },
        "event not expected here; skipped",
      );
      this.settle(msg, "ack");
      this.markDelivered(msg);
      return;
    }
    // The per-event child logger is built on first use: most handlers log nothing per event,
    // and a pino child with redaction is a measurable share of a busy coordinator's CPU.
    let eventLogger: Logger | undefined;
    const parent = this.logger;
    const ctx: HandlerContext = {
      redelivered: msg.redelivered,
      deliveryCount,
      subject: msg.subject,
      streamSequence,
      get logger(): Logger {
        eventLogger ??= parent.child({
          service: event.subject,
          deploymentId: event.deploymentid,
          eventId: event.id,
          type: event.type,
        });
        return eventLogger;
      },
    };
    // Long steps tell the server they are alive, so the message is not redelivered meanwhile.
    const keepAlive = setInterval(
      () => this.settle(msg, "working"),
      Math.max(500, Math.floor(this.s.ackWaitMs / 2)),
    );
    try {
      await this.s.handler(event as BgEvent<N>, ctx);
      this.settle(msg, "ack");
      this.markDelivered(msg);
    } catch (err) {
      await this.handlerFailed(msg, err, event, ctx.logger);
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async handlerFailed(
    msg: JsMsg,
    err: unknown,
    event: BgEvent,
    logger: Logger,
  ): Promise<void> {
    const { deliveryCount } = msg.info;
    const final = err instanceof BgError && !err.retryable;
    const exhausted = deliveryCount >= this.s.maxDeliver;
    if (!final && !exhausted) {
      const delay = backoffDelay(deliveryCount, this.s.nakBackoff);
      logger.warn(
        { err, deliveryCount, maxDeliver: this.s.maxDeliver, retryInMs: delay },
        "handler failed; will retry",
      );
      this.settle(msg, "nak", delay);
      return;
    }
    if (exhausted && !final) {
      logger.error({ err, deliveryCount }, "handler failed on its last delivery; giving up");
    }
    if (err instanceof BgError) {
      await this.rejectAndTerm(msg, {
        error: err,
        originalId: event.id,
        originalType: event.type,
        deploymentId: event.deploymentid,
      });
    } else {
      this.settle(msg, "term");
      this.markDelivered(msg);
    }
  }

  private async rejectAndTerm(
    msg: JsMsg,
    r: Pick<RejectRequest, "error" | "issues" | "originalId" | "originalType" | "deploymentId">,
  ): Promise<void> {
    const { deliveryCount, streamSequence } = msg.info;
    const fields = {
      code: r.error.code,
      reason: r.error.message,
      subject: msg.subject,
      originalId: r.originalId,
      streamSequence,
    };
    if (isRejectionSubject(msg.subject)) {
      // Never answer a rejection with a rejection: two agents could echo each other forever.
      this.logger.warn(fields, "malformed rejection event dropped");
      this.settle(msg, "term");
      return;
    }
    try {
      await this.deps.reject({
        ...r,
        subject: msg.subject,
        payload: msg.data,
        id: rejectionId(this.s.name, streamSequence),
      });
      this.logger.warn(fields, "message rejected");
    } catch (err) {
      if (deliveryCount < this.s.maxDeliver) {
        // The rejection could not be recorded: try again later (its id makes the retry safe).
        this.logger.warn(
          { ...fields, err },
          "message rejected, but the rejection was not published; will retry",
        );
        this.settle(msg, "nak", backoffDelay(deliveryCount, this.s.nakBackoff));
        return;
      }
      this.logger.error(
        { ...fields, err },
        "message rejected; the rejection event could not be published",
      );
    }
    this.settle(msg, "term");
    this.markDelivered(msg);
  }
}
