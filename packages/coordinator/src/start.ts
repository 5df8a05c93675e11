import { filterSubject } from "@bluegreen/contracts";
import {
  type AgentContext,
  type AgentMainOptions,
  type Consumption,
  childLogger,
  loadSigningKey,
  type StartedAgent,
  VERSION,
} from "@bluegreen/runtime";
import { Checkpointer } from "./checkpoints.ts";
import { Coordinator } from "./coordinator.ts";
import { CONSUMED_EVENTS, type ConsumedEvent, isTerminal } from "./decide.ts";
import { FactReader } from "./facts.ts";
import { LeaderElection } from "./leader.ts";
import { Leases } from "./lock.ts";
import { CoordinatorMetrics } from "./metrics.ts";
import { DeploymentStore } from "./store.ts";
import { streamLookup } from "./stream-lookup.ts";
import { DeadlineTimers } from "./timers.ts";

/** The coordinator's version: bluegreen's (the root package.json), as heartbeats say. */
export { VERSION };

/** The event families the coordinator reads (one durable consumer each on nats-server 2.9). */
const FAMILIES = ["deploy", "smoke", "switch", "monitor", "slo"] as const;
export const COORDINATOR_DURABLE = "coordinator";

export interface CoordinatorOptions {
  /**
   * Messages handled at once per family (default 1; the five families run side by side).
   * More only interleaves CPU-bound handlers: see docs/coordinator.md.
   */
  concurrency?: number;
}

/**
 * The coordinator agent: campaigns for the leader lease; the leader picks up every deployment
 * in flight from KV, consumes the events and renews the service locks of its deployments.
 */
export async function startCoordinator(
  ctx: AgentContext<"coordinator">,
  opts: CoordinatorOptions = {},
): Promise<
  StartedAgent & {
    coordinator: Coordinator;
    leader: LeaderElection;
    checkpointer: Checkpointer | undefined;
  }
> {
  const cfg = ctx.config;
  const logger = childLogger(ctx.logger, { component: "coordinator" });
  const metrics = new CoordinatorMetrics(ctx.metrics);
  const leases = new Leases(ctx.kv.locks, cfg.agent_id, cfg.lease_ttl);
  const store = new DeploymentStore(ctx.kv.deployments);
  const coordinator = new Coordinator({
    store,
    locks: leases,
    // Events built by decide went through createEvent: validated once is enough.
    publish: async (event) => {
      await ctx.bus.publish(event, { validated: true });
    },
    wasPublished: streamLookup(ctx.jsm),
    facts: new FactReader(ctx.kv, ctx.definitions, logger),
    timers: new DeadlineTimers(),
    metrics,
    logger: ctx.logger,
    source: ctx.bus.source,
    requireHeartbeats: cfg.require_heartbeats,
    heartbeatMaxAgeMs: cfg.heartbeat_max_age,
  });
  let consumption: Consumption | undefined;
  let renewal: NodeJS.Timeout | undefined;
  // The signing key is read now: a key others can read refuses the start (BG_ERR_AUDIT_KEY_EXPOSED).
  const checkpointer =
    cfg.audit === undefined
      ? undefined
      : new Checkpointer({
          bus: ctx.bus,
          jsm: ctx.jsm,
          key: loadSigningKey(cfg.audit.signing_key_file),
          policy: { every: cfg.audit.checkpoint_every, intervalMs: cfg.audit.checkpoint_interval },
          logger: childLogger(ctx.logger, { component: "audit" }),
          onCheckpoint: (data) => {
            metrics.checkpoints.inc();
            metrics.checkpointCoveredSeq.set(data.lastSeq);
          },
          onFailure: () => metrics.checkpointFailures.inc(),
        });
  if (checkpointer === undefined)
    logger.warn(
      "audit checkpoints are off (no `audit` block in the config): the trail is not signed, `bluegreen audit verify` has nothing to check (docs/audit.md)",
    );
  else
    logger.info(
      {
        keyId: checkpointer.keyId,
        every: cfg.audit?.checkpoint_every,
        intervalMs: cfg.audit?.checkpoint_interval,
      },
      "audit checkpoints on: the leader signs the trail",
    );

  const renewLocks = async () => {
    for (const d of coordinator.inFlight()) {
      if (d.phase === "requested") continue;
      const held = await leases.renew(d.service, d.deploymentId).catch((err: unknown) => {
        logger.warn(
          { err, service: d.service, deploymentId: d.deploymentId },
          "lock renewal failed",
        );
        return true;
      });
      if (!held)
        logger.error(
          { service: d.service, deploymentId: d.deploymentId },
          "service lock was taken by another deployment while this one runs",
        );
    }
  };

  const recoverAll = async () => {
    const found = await store.list(undefined, (key, err) =>
      logger.error({ key, err }, "deployment record unreadable; skipped"),
    );
    const open = found.filter((l) => !isTerminal(l.state.phase));
    await Promise.all(open.map((l) => coordinator.recover(l.state.service, l.state.deploymentId)));
    if (open.length > 0)
      logger.info(
        { deployments: open.map((l) => l.state.deploymentId) },
        "picked up deployments in flight",
      );
  };

  const leader = new LeaderElection(
    leases,
    cfg.agent_id,
    cfg.lease_ttl,
    {
      elected: async () => {
        metrics.leader.set(1);
        coordinator.resume();
        await recoverAll();
        await renewLocks();
        consumption = await ctx.bus.consume({
          durable: COORDINATOR_DURABLE,
          filters: FAMILIES.map((family) => filterSubject({ name: `${family}.*` })),
          expect: CONSUMED_EVENTS,
          concurrency:
            opts.concurrency ?? Number(process.env.BLUEGREEN_COORDINATOR_CONCURRENCY ?? 1),
          // After a crash, a message the dead leader had pulled comes back this fast.
          ackWaitMs: 3_000,
          maxDeliver: 20,
          nakBackoff: { baseMs: 250, maxMs: 5_000 },
          handler: async (event, hctx) => {
            const started = performance.now();
            try {
              await coordinator.onEvent(event as ConsumedEvent, hctx);
            } finally {
              metrics.handle.observe({ type: event.type }, (performance.now() - started) / 1000);
            }
          },
        });
        checkpointer?.start();
        renewal = setInterval(
          () => {
            renewLocks().catch((err: unknown) => logger.warn({ err }, "lock renewal failed"));
          },
          Math.max(200, Math.floor(cfg.lease_ttl / 3)),
        );
      },
      deposed: async (reason) => {
        metrics.leader.set(0);
        clearInterval(renewal);
        await checkpointer
          ?.stop()
          .catch((err: unknown) => logger.warn({ err }, "stopping the audit checkpoints failed"));
        // Consumers stop first (running handlers finish), then the deadlines; the coordinator
        // pauses even if stopping the consumers failed, so no deadline fires here while
        // another coordinator leads.
        try {
          await consumption?.stop();
        } finally {
          consumption = undefined;
          await coordinator.pause();
          logger.warn({ reason }, "no longer leading");
        }
      },
    },
    logger,
  );
  await leader.start();
  return {
    coordinator,
    leader,
    checkpointer,
    stop: () => leader.stop(),
    heartbeat: () => ({ services: ["*"], leader: leader.isLeader() }),
  };
}

/** The agent's process entry: `bluegreen-coordinator` (main.ts) and `bluegreen agent coordinator`. */
export const COORDINATOR_MAIN: AgentMainOptions<"coordinator"> = {
  command: "bluegreen-coordinator",
  role: "coordinator",
  description: `Runs the bluegreen coordinator: the deployment state machine (pre-flight, the service lock,
deploy, smoke, the fenced switch, the SLO watch, rollback). Several may run; one leads through
a lease in KV, the others stand by and take over when it stops.`,
  start: (ctx) => startCoordinator(ctx),
  version: VERSION,
  docs: "docs/coordinator.md",
};
