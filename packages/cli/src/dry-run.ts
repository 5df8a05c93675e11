import { readFile } from "node:fs/promises";
import { Buckets, nodeId, type ServiceDefinition } from "@bluegreen/contracts";
import { type planOf, preflight } from "@bluegreen/coordinator";
import { compileStored } from "@bluegreen/runtime";
import { ActiveStore, renderUpstream } from "@bluegreen/switcher";
import { flag } from "./args.ts";
import { openBucket } from "./buckets.ts";
import type { CliContext } from "./command.ts";
import { diffChanges, lineDiff } from "./diff.ts";
import { ExitCode } from "./exit-codes.ts";
import { readFreezes } from "./freezes.ts";

/** The stored definition of a service, compiled (undefined when none was applied). */
export async function storedDefinition(
  ctx: Pick<CliContext, "nats">,
  service: string,
): Promise<{ text: string; revision: number; definition: ServiceDefinition } | undefined> {
  const kv = await openBucket((await ctx.nats()).jetstream(), Buckets.services);
  const entry = await kv?.get(service);
  if (entry === undefined || entry === null || entry.operation !== "PUT") return undefined;
  const text = new TextDecoder().decode(entry.value);
  const { definition } = compileStored(service, text, entry.revision);
  return { text, revision: entry.revision, definition };
}

/** The upstream file as it is now: read on the nginx host, else rendered from the record. */
async function currentUpstream(
  definition: ServiceDefinition,
  active: ReturnType<typeof planOf>["activeColor"],
  revision: number,
): Promise<{ text: string; from: string }> {
  try {
    return { text: await readFile(definition.traffic.file, "utf8"), from: definition.traffic.file };
  } catch {
    if (active === null) return { text: "", from: "(no file yet)" };
    return {
      text: renderUpstream(definition, active, `r${revision}`),
      from: `rendered for ${active} (not readable here: ${definition.traffic.file})`,
    };
  }
}

/**
 * `deploy --dry-run`: what the deploy would do, read from KV and computed by the same code the
 * agents run (pre-flight and the plan of the coordinator, the node agent's steps, the switcher's
 * upstream file). Publishes nothing and writes nothing.
 */
export async function printDeployPlan(
  ctx: CliContext,
  service: string,
  version: string,
): Promise<ExitCode> {
  const { io, values, nats } = ctx;
  const js = (await nats()).jetstream();
  const stored = await storedDefinition(ctx, service);
  const activeKv = await openBucket(js, Buckets.active);
  const active = activeKv === undefined ? undefined : await new ActiveStore(activeKv).get(service);
  const freezes = [...(await readFreezes(js)).entries()]
    .filter(([key]) => key === service || key === "_all")
    .map(([, f]) => f);
  const verdict = preflight(
    {
      service,
      version,
      manualPromotion: flag(values, "manual"),
      definition: stored?.definition,
      active,
      agents: [],
      freezes,
    },
    { requireHeartbeats: false, heartbeatMaxAgeMs: 0, now: new Date() },
  );
  io.out(`dry run: deploy ${service} ${version} (nothing is published or written)`);
  if (!verdict.ok) {
    io.out(`would be rejected: ${verdict.code} ${JSON.stringify(verdict.params)}`);
    return ExitCode.rejected;
  }
  const definition = stored?.definition as ServiceDefinition;
  const plan = verdict.plan;
  const { planDeploy } = await import("@bluegreen/node-agent");
  io.out(
    `target: ${plan.targetColor} (serving now: ${plan.activeColor ?? "nothing"} ${plan.previousVersion ?? ""}, record r${plan.activeRevision}), definition r${stored?.revision}`,
  );
  io.out(`nodes: ${plan.nodes.map(nodeId).join(", ")}`);
  for (const node of plan.nodes) {
    const steps = planDeploy({
      definition,
      deploymentId: "dry-run",
      version,
      color: plan.targetColor,
      node,
    });
    io.out(`steps on ${nodeId(node)} (workdir ${steps.workdir}):`);
    for (const [i, argv] of steps.steps.entries()) io.out(`  ${i + 1}. ${JSON.stringify(argv)}`);
  }
  const r = definition.readiness;
  io.out(`readiness: GET ${r.path} expects ${r.expect_status} within ${r.timeout} ms`);
  for (const check of definition.smoke)
    io.out(
      "request" in check
        ? `smoke: ${check.name}: ${check.request.method} ${check.request.path} expects ${check.expect.status}`
        : `smoke: ${check.name}: ${JSON.stringify(check.command)}`,
    );
  if (plan.manualPromotion) io.out("promotion: manual (waits for `bluegreen promote`)");
  const m = definition.monitor;
  io.out(
    `watch: ${m.window} ms, every ${m.interval} ms: ${m.slos.map((s) => `${s.name} <= ${s.max}`).join(", ")}`,
  );
  const now = await currentUpstream(definition, plan.activeColor, plan.activeRevision);
  const next = renderUpstream(definition, plan.targetColor, `r${plan.activeRevision + 1}`);
  io.out(`upstream file ${definition.traffic.file} as it would be written:`);
  for (const line of next.trimEnd().split("\n")) io.out(`  ${line}`);
  const diff = lineDiff(now.text, next);
  io.out(`diff against ${now.from}:`);
  for (const line of diffChanges(diff) ? diff : ["  (no change)"]) io.out(`  ${line}`);
  return ExitCode.ok;
}

/** `apply --dry-run`: the definition's diff against the stored revision. */
export async function printApplyDiff(
  ctx: CliContext,
  service: string,
  text: string,
): Promise<ExitCode> {
  const stored = await storedDefinition(ctx, service).catch(() => undefined);
  ctx.io.out(
    `dry run: apply ${service} (nothing is written); against ${stored === undefined ? "nothing stored" : `revision ${stored.revision}`}:`,
  );
  const diff = lineDiff(stored?.text ?? "", text);
  if (!diffChanges(diff)) ctx.io.out("  (no change)");
  else for (const line of diff) ctx.io.out(`  ${line}`);
  return ExitCode.ok;
}
