// The hand-run guide's rollout watch and switch, as the e2e bench runs them beside the agents
// (/work/shared/design/blue-green-guide.md): `monitor_rollout.sh` (§4.3: its two PromQL
// queries, its 60 s check interval, its 0.05 threshold) in this process, and
// `switch_blue_green.sh` (§3.2: grep | awk, sed -i, nginx -t, nginx -s reload) run by bash.
//
// One liberty, and it favours the guide: the script reads the error rate with
// `jq '.data.result[0].value[1]'`, without -r, so bc gets a quoted string ("0.42" > 0.05), fails
// with a syntax error, and the `(( … ))` test is never true: as written, the guide's loop never
// rolls back. This runs what it meant, the value compared with 0.05 (no series counts as 0, as
// bc reads jq's `null`).

import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

export const GUIDE_ERROR_QUERY = 'rate(http_requests_total{status=~"5.."}[5m])';
export const GUIDE_LATENCY_QUERY =
  "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))";
export const GUIDE_CHECK_INTERVAL_MS = 60_000;
export const GUIDE_MAX_ERROR_RATE = 0.05;
const GUIDE_MAX_RESPONSE_TIME = 5.0;

/** The guide's switch_blue_green.sh, with its paths, upstream name and nginx argv as arguments. */
const SWITCH_SCRIPT = `#!/bin/bash
# switch_blue_green.sh from the guide; $1 conf, $2 upstream, $3/$4 blue/green, $5.. nginx argv
CONF="$1"; UPSTREAM="$2"; BLUE="$3;"; GREEN="$4;"; shift 4
CURRENT_NODE=$(grep -A 2 "upstream $UPSTREAM" "$CONF" | grep server | awk '{print $2}')
if [[ $CURRENT_NODE == "$BLUE" ]]; then
    NEW_NODE="$GREEN"; NEW_COLOR="green"
else
    NEW_NODE="$BLUE"; NEW_COLOR="blue"
fi
echo "Switching from $CURRENT_NODE to $NEW_COLOR ($NEW_NODE)"
sed -i "s|server $CURRENT_NODE|server $NEW_NODE|" "$CONF"
"$@" -t
if [ $? -eq 0 ]; then
    "$@" -s reload
    echo "Switched to $NEW_COLOR"
else
    echo "Error: nginx config test failed"
    exit 1
fi
`;

export interface GuideSwitch {
  /** Where to write the script. */
  readonly scriptPath: string;
  /** The upstream file nginx includes. */
  readonly file: string;
  readonly upstream: string;
  /** host:port of each colour's node. */
  readonly blue: string;
  readonly green: string;
  /** nginx's argv without -t / -s reload. */
  readonly nginx: readonly string[];
}

export async function writeSwitchScript(path: string): Promise<void> {
  await writeFile(path, SWITCH_SCRIPT, { mode: 0o755 });
}

/** Runs switch_blue_green.sh; resolves with its output, rejects when it fails. */
export function runSwitchScript(s: GuideSwitch): Promise<string> {
  const args = [s.scriptPath, s.file, s.upstream, s.blue, s.green, ...s.nginx];
  return new Promise((resolve, reject) => {
    execFile("bash", args, { timeout: 30_000 }, (err, stdout, stderr) =>
      err
        ? reject(new Error(`switch_blue_green.sh: ${stderr || err.message}`))
        : resolve(stdout.trim()),
    );
  });
}

/** `curl -s $PROM/api/v1/query -d 'query=…' | jq '.data.result[0].value[1]'`, as a number. */
export async function firstValue(prometheusUrl: string, query: string): Promise<number | null> {
  const response = await fetch(`${prometheusUrl}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ query }).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as {
    data?: { result?: { value?: [number, string] }[] };
  };
  const raw = body.data?.result?.[0]?.value?.[1];
  return raw === undefined ? null : Number(raw);
}

export interface GuideCheck {
  /** 0 for the check the loop makes as it starts. */
  readonly index: number;
  readonly at: number;
  readonly errorRate: number | null;
  readonly responseTime: number | null;
  readonly breached: boolean;
}

export interface GuideWatchOptions {
  readonly prometheusUrl: string;
  readonly switchBack: GuideSwitch;
  /** The loop gives up at this epoch ms (the guide's own limit is 30 min). */
  readonly deadline: number;
  readonly intervalMs?: number;
  /** Called after each check, before the sleep (the bench injects its fault after the first). */
  readonly onCheck?: (check: GuideCheck) => Promise<void> | void;
  readonly log?: (line: string) => void;
}

export interface GuideOutcome {
  readonly checks: readonly GuideCheck[];
  /** When the switch script returned (epoch ms), if the loop rolled back. */
  readonly switchedAt?: number;
}

const show = (v: number | null) => (v === null ? "null" : v.toPrecision(3));

/** monitor_rollout.sh: check, sleep 60 s, … until the error rate is over 0.05 (then switch). */
export async function guideWatch(opts: GuideWatchOptions): Promise<GuideOutcome> {
  const intervalMs = opts.intervalMs ?? GUIDE_CHECK_INTERVAL_MS;
  const log = opts.log ?? (() => {});
  const checks: GuideCheck[] = [];
  for (let index = 0; Date.now() < opts.deadline; index++) {
    const errorRate = await firstValue(opts.prometheusUrl, GUIDE_ERROR_QUERY);
    const at = Date.now();
    if ((errorRate ?? 0) > GUIDE_MAX_ERROR_RATE) {
      checks.push({ index, at, errorRate, responseTime: null, breached: true });
      log(`guide: ERROR: Error rate too high: ${show(errorRate)}; Rolling back...`);
      const output = await runSwitchScript(opts.switchBack);
      const switchedAt = Date.now();
      log(`guide: ${output.split("\n").join(" / ")}`);
      return { checks, switchedAt };
    }
    const responseTime = await firstValue(opts.prometheusUrl, GUIDE_LATENCY_QUERY);
    if ((responseTime ?? 0) > GUIDE_MAX_RESPONSE_TIME) {
      log(`guide: WARNING: Response time high: ${show(responseTime)}`);
    }
    const check = { index, at, errorRate, responseTime, breached: false };
    checks.push(check);
    log(`guide: Error rate: ${show(errorRate)}, Response time: ${show(responseTime)}`);
    await opts.onCheck?.(check);
    await sleep(Math.max(0, Math.min(intervalMs, opts.deadline - Date.now())));
  }
  return { checks };
}
