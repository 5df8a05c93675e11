// What a story found, and the summary printed at the end. Pure, so it is unit-tested.

export interface StoryResult {
  readonly title: string;
  /** What the story expects: "succeeded" or "rolled back". */
  readonly expected: string;
  readonly expectedExit: number;
  readonly exitCode: number | null;
  readonly deploymentId: string;
  /** Everything that did not go as expected; empty when the story ended as expected. */
  readonly problems: readonly string[];
  /** deploy.requested → the closing event (the coordinator's own figure when it gives one). */
  readonly deployMs?: number | undefined;
  /** switch.done of the promotion: probe → record. */
  readonly switchMs?: number | undefined;
  readonly switchPath?: string | undefined;
  /** From switch.done until 10 answers in a row came from the new colour through nginx. */
  readonly settledMs?: number | undefined;
  /** Story 2: fault injection → slo.breached. */
  readonly breachMs?: number | undefined;
  /** Story 2: fault injection → traffic settled on the previous colour, seen through nginx. */
  readonly faultToBackMs?: number | undefined;
  /** Story 2: the rollback's switch.done (probe → record). */
  readonly rollbackSwitchMs?: number | undefined;
  /** Story 2: deploy.rolled_back's timeToRollbackMs (breach → traffic back). */
  readonly timeToRollbackMs?: number | undefined;
  readonly requests: number;
  readonly failed: number;
}

export const secs = (ms: number | undefined): string =>
  ms === undefined ? "n/a" : ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;

export const storyOk = (r: StoryResult): boolean => r.problems.length === 0;

export function storyLines(index: number, r: StoryResult): string[] {
  const outcome = `exit ${r.exitCode ?? "none"}, expected ${r.expectedExit} (${r.expected})`;
  const lines = [
    `story ${index}  ${r.title}  [${r.deploymentId}]  ${storyOk(r) ? "as expected" : "NOT AS EXPECTED"}: ${outcome}`,
    `  deploy ${secs(r.deployMs)} · switch ${r.switchPath ?? ""} ${secs(r.switchMs)} · traffic settled ${secs(r.settledMs)} after switch.done`,
  ];
  if (r.faultToBackMs !== undefined || r.breachMs !== undefined) {
    lines.push(
      `  errors injected → breach ${secs(r.breachMs)} → traffic back on the previous colour ${secs(r.faultToBackMs)} (rollback switch ${secs(r.rollbackSwitchMs)}; breach → back ${secs(r.timeToRollbackMs)})`,
    );
  }
  lines.push(`  requests through nginx: ${r.requests}, failed: ${r.failed}`);
  for (const problem of r.problems) lines.push(`  ✗ ${problem}`);
  return lines;
}

export function summaryLines(results: readonly StoryResult[], totalMs: number): string[] {
  const lines = results.flatMap((r, i) => storyLines(i + 1, r));
  const ok = results.length > 0 && results.every(storyOk);
  lines.push(
    ok
      ? `demo: all ${results.length} stories ended as expected (${secs(totalMs)})`
      : `demo: FAILED: ${results.filter((r) => !storyOk(r)).length || "no"} of ${results.length} stories went wrong (${secs(totalMs)})`,
  );
  return lines;
}
