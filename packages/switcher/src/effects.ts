import { BgError, type Color } from "@bluegreen/contracts";
import { type Bus, childLogger, type Logger } from "@bluegreen/runtime";
import { answerId } from "./answer-id.ts";
import {
  type ActiveState,
  type FileRead,
  nextRecord,
  type SwitchCommand,
  type SwitchInput,
  type SwitchRequest,
} from "./decide.ts";
import type { SwitchMetrics } from "./metrics.ts";
import { nginxSteps } from "./nginx.ts";
import { done, failed, resultOf, type SwitchOutcome, since } from "./outcome.ts";
import type { NginxSettings, SwitchPorts } from "./ports.ts";
import type { ProbeResult } from "./probe.ts";
import { colorOfFile } from "./upstream-file.ts";

/**
 * `carryOut(command)`: the switcher's commands carried out against the world (the KV record,
 * the upstream file, nginx, HTTP, the bus), behind SwitchPorts. `read` and `switch` answer with
 * the input their result feeds back; `answer` publishes. Only a failure to read the record
 * (NATS trouble) or to publish throws, so the request is redelivered and tried again.
 */

export interface EffectsDeps {
  ports: SwitchPorts;
  nginx: NginxSettings;
  bus: Pick<Bus, "emit">;
  metrics: SwitchMetrics;
  /** The agent's logger; each request logs with `component: "switch"`, service, deployment. */
  logger?: Logger | undefined;
}

export class SwitchEffects {
  /**
   * The target's readiness probe of each request being carried out: it starts with the reads
   * (it is needed before the write, and costs one GET per node when no write is needed), and
   * the `switch` command takes it up.
   */
  private readonly probes = new Map<string, Promise<ProbeResult>>();

  constructor(private readonly deps: EffectsDeps) {}

  carryOut(command: SwitchCommand): Promise<SwitchInput | undefined> {
    switch (command.kind) {
      case "read":
        return this.read(command);
      case "switch":
        return this.switch(command);
      case "answer":
        return this.answer(command).then(() => undefined);
    }
  }

  /** A logger for one request. */
  loggerOf(req: SwitchRequest): Logger | undefined {
    const root = this.deps.logger;
    if (root === undefined) return undefined;
    return childLogger(root, {
      component: "switch",
      service: req.service,
      deploymentId: req.deploymentId,
      eventId: req.id,
    });
  }

  private async read({
    request: req,
    def,
  }: Extract<SwitchCommand, { kind: "read" }>): Promise<SwitchInput> {
    const { ports } = this.deps;
    const file = def.traffic.file;
    const probing = ports.probe(def, req.to);
    probing.catch(() => undefined); // awaited (and its failure reported) only when needed
    this.probes.set(req.id, probing);
    const reading = ports.readFile(file);
    reading.catch(() => undefined);
    let active: ActiveState;
    try {
      active = await ports.readActive(req.service);
    } catch (err) {
      this.probes.delete(req.id);
      throw err;
    }
    let read: FileRead;
    try {
      const content = await reading;
      const color = content === undefined ? null : colorOfFile(content, def).color;
      read = { ok: true, content, color };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.loggerOf(req)?.error({ step: "read", file, reason }, "upstream file not readable");
      read = { ok: false, reason };
    }
    return { kind: "read", requestId: req.id, active, file: read };
  }

  /** The nginx steps (when asked), then the record (when asked); always an outcome. */
  private async switch(command: Extract<SwitchCommand, { kind: "switch" }>): Promise<SwitchInput> {
    const { request: req, def, startedAt, active } = command;
    const { ports } = this.deps;
    const log = this.loggerOf(req);
    const probe = this.probes.get(req.id) ?? ports.probe(def, req.to);
    this.probes.delete(req.id);
    const switched = (outcome: SwitchOutcome): SwitchInput => ({
      kind: "switched",
      requestId: req.id,
      outcome,
    });

    let timings = {};
    if (command.nginx) {
      // Verification ends by the switch timeout, and by the requester's deadline when it is
      // sooner: a switch verified after the deployment stopped waiting is restored instead.
      const left = req.deadline === undefined ? Infinity : req.deadline - ports.now().getTime();
      const budget = Math.min(def.traffic.switch_timeout - since(startedAt), left);
      const applied = await nginxSteps(def, req.to, ports, this.deps.nginx, {
        previous: command.previous,
        probe,
        verifyTimeoutMs: Math.max(1, Math.min(def.traffic.verify.timeout, budget)),
        deadline: req.deadline,
        logger: log,
      });
      if (!applied.ok) {
        const refused = applied.stage === "probe" || applied.stage === "expired";
        return switched(
          failed(req, refused ? "refused" : "failed", applied.stage, applied.error, {
            output: applied.output,
            restored: applied.restored,
            activeColor: applied.restored ? command.serving : null,
          }),
        );
      }
      timings = applied.timings;
    }
    const totalMs = () => ({ totalMs: since(startedAt) });
    if (!command.record) {
      return switched(done(req, command.from, true, active.revision, { ...timings, ...totalMs() }));
    }
    const recordStart = performance.now();
    try {
      const record = nextRecord(req, active, command.fileColor, ports.now());
      const revision = await ports.writeActive(req.service, record, req.expectedRevision);
      const recorded = { ...timings, recordMs: since(recordStart) };
      if (command.nginx) {
        log?.info({ from: command.from, to: req.to, revision, timings: recorded }, "switched");
      } else {
        log?.info({ to: req.to, revision }, "file already serves the target: recorded it");
      }
      return switched(
        done(req, command.from, command.nginx, revision, { ...recorded, ...totalMs() }),
      );
    } catch (err) {
      return switched(recordFailed(req, err, req.to, log));
    }
  }

  private async answer(command: Extract<SwitchCommand, { kind: "answer" }>): Promise<void> {
    const { request: req, outcome } = command;
    this.probes.delete(req.id);
    if (!command.again) {
      const { metrics } = this.deps;
      if (outcome.kind === "failed" && outcome.data.stage === "test") metrics.nginxTestFailed();
      metrics.observe(resultOf(outcome), (performance.now() - command.startedAt) / 1000);
    }
    const common = { service: req.service, deploymentId: req.deploymentId };
    if (outcome.kind === "done") {
      await this.deps.bus.emit("switch.done", {
        ...common,
        data: outcome.data,
        id: answerId(req.id, "done"),
      });
    } else {
      await this.deps.bus.emit("switch.failed", {
        ...common,
        data: outcome.data,
        id: answerId(req.id, "failed"),
      });
    }
  }
}

/** The record could not be written: nginx serves the target, the next start reports drift. */
function recordFailed(
  req: SwitchRequest,
  err: unknown,
  active: Color,
  log: Logger | undefined,
): SwitchOutcome {
  const reason =
    err instanceof BgError && err.code === "BG_ERR_KV_CONFLICT"
      ? `the record changed meanwhile (${err.message})`
      : err instanceof Error
        ? err.message
        : String(err);
  log?.error({ step: "record", reason }, "active colour not recorded");
  return failed(
    req,
    "failed",
    "record",
    new BgError("BG_ERR_SWITCH_RECORD_FAILED", { to: req.to, reason }, { cause: err }),
    { restored: false, activeColor: active },
  );
}
