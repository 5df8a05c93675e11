/**
 * What `bluegreen` exits with. CI relies on these: only 0 means the deployment succeeded.
 * Documented in docs/cli.md; never renumber.
 */
export const ExitCode = {
  /** The command did what it was asked; for `deploy --wait`, the deployment succeeded. */
  ok: 0,
  /** Something went wrong that is not about the deployment (NATS unreachable, a bug). */
  error: 1,
  /** The command line is wrong (unknown command or option, missing argument). */
  usage: 2,
  /** Refused before anything changed: deploy rejected, request refused, definition invalid. */
  rejected: 3,
  /** The deployment failed (a step, readiness, smoke, the switch, the rollback). */
  failed: 4,
  /** The deployment was rolled back: traffic is on the previous colour again. */
  rolledBack: 5,
  /** `--timeout` passed before the deployment ended; it goes on without the CLI. */
  timedOut: 6,
  /** The deployment was aborted on request (or its promotion gate timed out). */
  aborted: 7,
  /** `bluegreen audit verify` found a problem in the audit trail (missing, altered, reordered…). */
  auditFailed: 8,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code a closing event means, or undefined when the event closes nothing. */
export function exitCodeOf(eventType: string): ExitCode | undefined {
  switch (eventType) {
    case "bluegreen.deploy.succeeded":
      return ExitCode.ok;
    case "bluegreen.deploy.rejected":
      return ExitCode.rejected;
    case "bluegreen.deploy.failed":
      return ExitCode.failed;
    case "bluegreen.deploy.rolled_back":
      return ExitCode.rolledBack;
    case "bluegreen.deploy.aborted":
      return ExitCode.aborted;
    default:
      return undefined;
  }
}
