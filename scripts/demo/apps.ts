// The two sample-app nodes, run the way the definition's deploy steps run them: through the
// sample app's ctl in one directory per colour (`<stateDir>/local-app-blue`), so the node
// agents' deploys replace exactly these processes.

import { join } from "node:path";
import type { Color } from "@bluegreen/contracts";
import { runCommand, SAMPLE_APP_CTL } from "@bluegreen/testkit";

export interface AppNode {
  readonly color: Color;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** The ctl's work dir: VERSION, app.pid, app.log. */
  readonly dir: string;
}

export function appNode(stateDir: string, service: string, color: Color, port: number): AppNode {
  const host = "127.0.0.1";
  return {
    color,
    host,
    port,
    url: `http://${host}:${port}`,
    dir: join(stateDir, `${service}-${color}`),
  };
}

async function ctl(args: readonly string[]): Promise<string> {
  const result = await runCommand(process.execPath, [SAMPLE_APP_CTL, ...args], {
    timeoutMs: 30_000,
  });
  if (result.code !== 0) {
    throw new Error(
      `sample-app-ctl ${args.join(" ")} exited ${result.code}: ${result.stderr || result.stdout}`,
    );
  }
  return result.stdout;
}

/** set-version + start, as a deploy would. */
export async function startApp(node: AppNode, version: string): Promise<void> {
  await ctl(["set-version", "--dir", node.dir, version]);
  await ctl([
    "start",
    ...["--dir", node.dir, "--host", node.host, "--port", String(node.port)],
    ...["--color", node.color],
  ]);
}

/** Stops the app in the node's dir, whatever started it (the demo or a deploy). */
export async function stopApp(node: AppNode): Promise<void> {
  await ctl(["stop", "--dir", node.dir]);
}

/** The running app's pid, or undefined. */
export async function appPid(node: AppNode): Promise<number | undefined> {
  const result = await runCommand(process.execPath, [SAMPLE_APP_CTL, "status", "--dir", node.dir], {
    timeoutMs: 30_000,
  });
  try {
    const status = JSON.parse(result.stdout) as { pid: number | null };
    return status.pid ?? undefined;
  } catch {
    return undefined;
  }
}

/** POST /admin/faults on the node itself (not through nginx). */
export async function setFaults(
  node: AppNode,
  faults: { errorRate?: number; latencyMs?: number; healthFail?: boolean },
): Promise<void> {
  const response = await fetch(`${node.url}/admin/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(faults),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) {
    throw new Error(`POST ${node.url}/admin/faults: ${response.status} ${await response.text()}`);
  }
}
