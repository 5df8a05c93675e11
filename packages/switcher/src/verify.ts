import type { IncomingHttpHeaders } from "node:http";
import type { Color, ServiceDefinition } from "@bluegreen/contracts";
import { COLORS } from "@bluegreen/contracts";
import { sleep } from "@bluegreen/runtime";
import { failureOf, getOnce } from "./probe.ts";
import { nginxAddress } from "./upstream-file.ts";

/**
 * Verification *through nginx*: after the reload, GET the definition's verify URL until the
 * answer comes from the target colour, or the deadline passes. Which colour answered is read
 * from the upstream-address header the site config adds (what nginx really used), else from
 * the app's `X-App-Color` header, else from the `color` field of its JSON body.
 */

export const UPSTREAM_ADDR_HEADER = "x-upstream-addr";
export const APP_COLOR_HEADER = "x-app-color";
/** The generation of the upstream file the answering worker loaded (see upstream-file.ts). */
export const GENERATION_HEADER = "x-bluegreen-generation";

export type NodesSpec = Pick<ServiceDefinition, "nodes">;

function asColor(value: unknown): Color | undefined {
  return COLORS.find((c) => c === value);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/**
 * `$upstream_addr` lists every server tried (`a:1, b:2`, or `a:1 : b:2` across internal
 * redirects); the last one answered.
 */
export function lastUpstreamAddr(value: string): string | undefined {
  const parts = value.split(/,\s*|\s+:\s+/).map((s) => s.trim());
  const last = parts[parts.length - 1];
  return last === undefined || last === "" ? undefined : last;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The colour that produced an answer, or null when the answer does not say. */
export function colorOfAnswer(answer: Answer, def: NodesSpec): Color | null {
  const addr = header(answer.headers, UPSTREAM_ADDR_HEADER);
  if (addr !== undefined) {
    const last = lastUpstreamAddr(addr);
    const byAddr = COLORS.find((c) => def.nodes[c].some((n) => nginxAddress(n) === last));
    if (byAddr !== undefined) return byAddr;
  }
  const byHeader = asColor(header(answer.headers, APP_COLOR_HEADER));
  if (byHeader !== undefined) return byHeader;
  try {
    const json = JSON.parse(answer.body) as { color?: unknown } | null;
    return asColor(json?.color) ?? null;
  } catch {
    return null;
  }
}

/**
 * Whether an answer proves that nginx now sends traffic to `target` from the file written
 * with `generation`: a 2xx from the target colour, and — when the site config adds the
 * generation header — from a worker that loaded that very file (not an old worker that has
 * not stopped accepting yet).
 */
export function answerShows(
  answer: Answer,
  def: NodesSpec,
  target: Color,
  generation: string | undefined,
): { ok: boolean; color: Color | null; stale: boolean } {
  const color = colorOfAnswer(answer, def);
  const seen = header(answer.headers, GENERATION_HEADER);
  const stale = generation !== undefined && seen !== undefined && seen !== generation;
  const ok = color === target && !stale && answer.status >= 200 && answer.status < 300;
  return { ok, color, stale };
}

/** A short description of an answer, for the failure message. */
export function describeAnswer(answer: Answer, color: Color | null, stale = false): string {
  return `HTTP ${answer.status} from ${color ?? "an unknown colour"}${stale ? " (a worker running an older upstream file)" : ""}`;
}

export type VerifyResult =
  | { ok: true; attempts: number; durationMs: number }
  | { ok: false; attempts: number; durationMs: number; last: string };

export interface VerifyOptions {
  timeoutMs: number;
  /** The generation of the file just written; answers from other generations do not count. */
  generation?: string | undefined;
  /** Ends the polling early (answers `ok: false`, "aborted"). */
  signal?: AbortSignal;
  /** Pause between attempts: short at first (a reload takes tens of ms), then longer. */
  fastIntervalMs?: number;
  slowIntervalMs?: number;
  fastPhaseMs?: number;
}

const REQUEST_TIMEOUT_MS = 2_000;

export async function verifyThroughNginx(
  url: string,
  def: NodesSpec,
  target: Color,
  opts: VerifyOptions,
): Promise<VerifyResult> {
  const started = performance.now();
  const deadline = started + opts.timeoutMs;
  const fast = opts.fastIntervalMs ?? 2;
  const slow = opts.slowIntervalMs ?? 25;
  const fastPhase = opts.fastPhaseMs ?? 500;
  let attempts = 0;
  let last = "no answer yet";
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    if (opts.signal?.aborted) {
      last = "aborted";
      break;
    }
    attempts++;
    const timeout = Math.max(1, Math.min(left, REQUEST_TIMEOUT_MS));
    const answer = await getOnce(url, timeout);
    if (answer.kind === "response") {
      const shown = answerShows(answer, def, target, opts.generation);
      if (shown.ok) return { ok: true, attempts, durationMs: performance.now() - started };
      last = describeAnswer(answer, shown.color, shown.stale);
    } else if (timeout === REQUEST_TIMEOUT_MS || attempts === 1) {
      // An attempt cut short by the deadline says nothing: keep the answer seen before it.
      last = failureOf(answer);
    }
    const elapsed = performance.now() - started;
    await sleep(
      Math.min(elapsed < fastPhase ? fast : slow, Math.max(0, deadline - performance.now())),
      opts.signal,
    );
  }
  return { ok: false, attempts, durationMs: performance.now() - started, last };
}
