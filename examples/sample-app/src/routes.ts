// The `path` label of the request metrics: known routes by name, anything else as "other",
// so a scan of random URLs cannot blow up the number of series.

const KNOWN_PATHS = new Set(["/health", "/api/v1/inference", "/api/v1/memory"]);

export function pathLabel(path: string): string {
  return KNOWN_PATHS.has(path) ? path : "other";
}
