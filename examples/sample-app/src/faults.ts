// Fault injection: what is injected, how a patch from the admin endpoint is checked, and
// which fault applies to which request. Pure; the server feeds it a random number.

export interface Faults {
  /** Share (0..1) of application requests answered with 500. /health is exempt. */
  readonly errorRate: number;
  /** Delay added before answering every application request and /health. */
  readonly latencyMs: number;
  /** /health answers 503 while set. */
  readonly healthFail: boolean;
}

export const NO_FAULTS: Faults = Object.freeze({ errorRate: 0, latencyMs: 0, healthFail: false });

export const MAX_LATENCY_MS = 600_000;

/** Which family a request path belongs to; it decides the faults and whether it is counted. */
export const RouteKind = {
  /** `/health`: gets latency and healthFail, never errorRate. */
  Health: "health",
  /** `/metrics` and `/admin/*`: no faults, not counted in the request metrics. */
  Control: "control",
  /** Everything else (the API and unknown paths): gets latency and errorRate. */
  App: "app",
} as const;
export type RouteKind = (typeof RouteKind)[keyof typeof RouteKind];

export function classifyPath(path: string): RouteKind {
  if (path === "/health") return RouteKind.Health;
  if (path === "/metrics" || path === "/admin" || path.startsWith("/admin/")) {
    return RouteKind.Control;
  }
  return RouteKind.App;
}

export interface FaultDecision {
  readonly delayMs: number;
  /** Answer 500 instead of serving the request. */
  readonly fail: boolean;
}

/** `random` is a uniform draw in [0, 1), so errorRate 0 never fails and 1 always does. */
export function decideFault(kind: RouteKind, faults: Faults, random: number): FaultDecision {
  switch (kind) {
    case RouteKind.Control:
      return { delayMs: 0, fail: false };
    case RouteKind.Health:
      return { delayMs: faults.latencyMs, fail: false };
    case RouteKind.App:
      return { delayMs: faults.latencyMs, fail: random < faults.errorRate };
  }
}

export type FaultsPatchResult =
  | { readonly ok: true; readonly patch: Partial<Faults> }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Checks a JSON body sent to `POST /admin/faults`: any subset of the fields, nothing else. */
export function parseFaultsPatch(input: unknown): FaultsPatchResult {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, problems: ["expected a JSON object"] };
  }
  const problems: string[] = [];
  const patch: { errorRate?: number; latencyMs?: number; healthFail?: boolean } = {};
  for (const [key, value] of Object.entries(input)) {
    switch (key) {
      case "errorRate":
        if (typeof value === "number" && value >= 0 && value <= 1) patch.errorRate = value;
        else problems.push("errorRate: expected a number from 0 to 1");
        break;
      case "latencyMs":
        if (
          Number.isInteger(value) &&
          (value as number) >= 0 &&
          (value as number) <= MAX_LATENCY_MS
        ) {
          patch.latencyMs = value as number;
        } else problems.push(`latencyMs: expected an integer from 0 to ${MAX_LATENCY_MS}`);
        break;
      case "healthFail":
        if (typeof value === "boolean") patch.healthFail = value;
        else problems.push("healthFail: expected a boolean");
        break;
      default:
        problems.push(`${key}: unknown field (expected errorRate, latencyMs, healthFail)`);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, patch };
}

export function applyFaultsPatch(current: Faults, patch: Partial<Faults>): Faults {
  return Object.freeze({ ...current, ...patch });
}
