// What the monitor suites share: deployment ids unique to the run, waiting for the stored
// watch to have run some checks, and the scrape error-ratio SLO (the chaos suite's too). The rest of the rig is @bluegreen/testkit's
// (`connectClient`, `startMonitorProcess`, `applyWatchDefinition`, `promote`, `startApiTraffic`).

import { type TestClient, waitFor } from "@bluegreen/testkit";

/** Deployment ids unique to this run, so a reused NATS (BLUEGREEN_TEST_NATS_URL) holds no stale ones. */
const RUN = Date.now().toString(36);
export function dep(name: string): string {
  return `d-${RUN}-${name}`;
}

/** Polls the stored watch until it has run `n` checks; returns the count seen. */
export function waitForChecks(client: TestClient, service: string, n: number): Promise<number> {
  return waitFor(
    async () => {
      const entry = await client.kv.watches.get(service);
      if (entry === null) return undefined;
      const checks = (entry.json() as { checks: number }).checks;
      return checks >= n ? checks : undefined;
    },
    { what: `${n} checks of ${service} in KV`, timeoutMs: 10_000 },
  );
}

/** The direct-scrape error-ratio SLO: over 5 % errors (of at least one request) rolls back. */
export const SCRAPE_ERROR_RATIO = {
  name: "error-ratio",
  scrape: { errorRatio: {} },
  max: 0.05,
  on_breach: "rollback",
  min_requests: 1,
};
