// The nats-server crashes (SIGKILL) and comes back on the same port with its JetStream store,
// once in each phase of a deployment. Given the whole stack (nginx, two sample-app nodes, the
// switcher, a node agent per colour, the monitor and the coordinator, all processes) and
// `bluegreen deploy --wait` following each deployment as CI does …

import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { type E2eStack, startE2eStack } from "../e2e/stack.ts";
import {
  agentLogs,
  applyAndWait,
  deploymentIdOf,
  EventWatch,
  expectFinalState,
  type FaultPoint,
  faultAt,
  names,
  SUCCESS_ONCE,
} from "./nats-faults.ts";

let stack: E2eStack;
let watch: EventWatch;

/** How long the server stays dead each time: longer than the agents' reconnect wait (1 s). */
const DOWN_MS = 1_500;

/** Freezes the server at once (SIGSTOP: nothing more crosses it), before the SIGKILL. */
function freezeServer(): void {
  const pid = stack.base.nats.process?.pid;
  if (pid === undefined) return;
  try {
    process.kill(pid, "SIGSTOP");
  } catch {
    // already gone
  }
}

async function crashServer(): Promise<void> {
  await stack.base.nats.kill("SIGKILL");
  await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
  await stack.base.nats.restart();
}

const PHASES: readonly (FaultPoint & { window?: string })[] = [
  { phase: "requested", type: "deploy.requested" },
  { phase: "deploying", type: "deploy.started" }, // the node agent runs its steps
  { phase: "smoke", type: "deploy.ready" }, // the node agent runs its smoke checks
  { phase: "switching", type: "switch.requested" }, // the switcher writes and reloads
  // The monitor watches the window. The server is gone for ~2 s and a request caught in the
  // crash waits out its 5 s timeout, so the window must outlast that to hold a conclusive
  // check; with the suite's 3 s window the watch ends inconclusive and rolls back (safe).
  { phase: "monitoring", type: "monitor.started", window: "12s" },
];

beforeAll(async () => {
  stack = await startE2eStack({ window: "3s" });
  watch = await EventWatch.open([stack.base.nats.url], stack.service);
}, 90_000);

afterAll(async () => {
  await watch?.close();
  await stack?.stop();
}, 60_000);

describe("given one nats-server with a JetStream store, and a colour serving", () => {
  PHASES.forEach((point, i) => {
    const version = `v1.${i + 1}`;
    it(`when the server is SIGKILLed and restarted in the ${point.phase} phase (on ${point.type}), then deploy ${version} --wait exits 0 and the other colour serves it`, async () => {
      onTestFailed(() => console.info(agentLogs(stack)));
      const { window } = point;
      if (window !== undefined)
        await applyAndWait(stack, (doc) => doc.setIn(["monitor", "window"], window));
      const before = await stack.served();
      expect(before.status).toBe(200);
      const target = before.color === "blue" ? "green" : "blue";
      const pid = stack.base.nats.process?.pid;
      const started = Date.now();
      const fault = faultAt(watch, [point], { freeze: freezeServer, fault: crashServer }, 60_000);
      const run = await stack.cli(
        ["deploy", stack.service, version, "--wait", "--timeout", "60s"],
        65_000,
      );
      const [done] = await fault;
      console.info(
        `nats-restart ${point.phase}: deploy --wait took ${Date.now() - started} ms, server down ${done?.tookMs} ms`,
      );

      expect(stack.base.nats.process?.pid, "the server was restarted").not.toBe(pid);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/: succeeded$/m);
      const events = await expectFinalState(stack, deploymentIdOf(run.stdout), {
        terminal: "deploy.succeeded",
        served: { color: target, version },
        once: SUCCESS_ONCE,
      });
      // What the CLI printed is the stored story: a line per event, none lost or repeated.
      const printed = run.lines.filter((l) => /^\d\d:\d\d:\d\d\.\d{3} {2}\S/.test(l));
      expect(printed.map((l) => l.split(/\s+/)[1])).toEqual(names(events));
      if (window !== undefined) await stack.applyDefinition(() => undefined);
    }, 75_000);
  });
});
