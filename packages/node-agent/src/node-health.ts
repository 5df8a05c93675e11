import { nodeId, type ServiceDefinition, type ServiceNode } from "@bluegreen/contracts";
import { httpCall, nodeUrl } from "@bluegreen/runtime";
import { type HttpAnswer, MAX_BODY_BYTES } from "./smoke/verdict.ts";

/** What a heartbeat says about one node. */
export interface NodeHealth {
  readonly node: string;
  readonly healthy: boolean;
  /** The `version` the node reports in its readiness answer (JSON), when it does. */
  readonly version?: string;
}

/** Pure: a readiness answer → health and version. */
export function healthOf(node: string, answer: HttpAnswer, expectStatus: number): NodeHealth {
  if (answer.kind === "error") return { node, healthy: false };
  const healthy = answer.status === expectStatus;
  let version: string | undefined;
  try {
    const body = JSON.parse(answer.body) as { version?: unknown };
    if (typeof body?.version === "string" && body.version.length > 0)
      version = body.version.slice(0, 200);
  } catch {
    // not JSON: no version to report
  }
  return version === undefined ? { node, healthy } : { node, healthy, version };
}

export interface HealthTarget {
  readonly node: ServiceNode;
  readonly readiness: ServiceDefinition["readiness"];
}

/**
 * Polls the readiness path of every served node in the background, so a heartbeat can say
 * at once which nodes are healthy and which version they run.
 */
export class NodeHealthPoller {
  private latest = new Map<string, NodeHealth>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly targets: () => HealthTarget[],
    private readonly intervalMs: number,
    private readonly timeoutMs = 2_000,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.pollOnce().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    tick();
  }

  async pollOnce(): Promise<void> {
    const targets = this.targets();
    const results = await Promise.all(
      targets.map(async ({ node, readiness }) => {
        const id = nodeId(node);
        const answer = await httpCall({
          url: nodeUrl(node, readiness.path),
          timeoutMs: Math.min(this.timeoutMs, readiness.timeout),
          maxBodyBytes: MAX_BODY_BYTES,
        });
        return healthOf(id, answer, readiness.expect_status);
      }),
    );
    this.latest = new Map(results.map((h) => [h.node, h]));
  }

  snapshot(): NodeHealth[] {
    return [...this.latest.values()].slice(0, 64);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
