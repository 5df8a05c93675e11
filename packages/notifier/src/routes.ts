import type { BgEvent, NotifierConfig } from "@bluegreen/contracts";

/**
 * Which sinks an event goes to: pure. A route names service globs, event-name globs and sinks;
 * an event goes to every sink of every route it matches, each sink once.
 */

/** `*` matches any run of characters (dots included); everything else is literal. */
export function globMatch(glob: string, text: string): boolean {
  if (!glob.includes("*")) return glob === text;
  const pattern = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${pattern.join(".*")}$`).test(text);
}

/** What a route is matched against: the event's short name and the services it concerns. */
export interface RouteSubject {
  /** `deploy.rolled_back`, `agent.stale`, … */
  name: string;
  /** The event's service; for `agent.stale`, the services of the silent agent as well. */
  services: readonly string[];
}

export function routeSubject(event: Pick<BgEvent, "type" | "subject" | "data">): RouteSubject {
  const name = event.type.replace(/^bluegreen\./, "");
  const services = [event.subject];
  const data = event.data as { services?: unknown };
  if (name === "agent.stale" && Array.isArray(data.services))
    services.push(...data.services.filter((s): s is string => typeof s === "string"));
  return { name, services };
}

export function sinksFor(subject: RouteSubject, routes: NotifierConfig["routes"]): string[] {
  const out = new Set<string>();
  for (const route of routes) {
    const service = route.services.some((g) => subject.services.some((s) => globMatch(g, s)));
    const event = route.events.some((g) => globMatch(g, subject.name));
    if (service && event) for (const sink of route.sinks) out.add(sink);
  }
  return [...out];
}

/** Every route names sinks that exist; the problems otherwise. */
export function unknownSinks(config: Pick<NotifierConfig, "routes" | "sinks">): string[] {
  const names = new Set(config.sinks.map((s) => s.name));
  return config.routes.flatMap((r, i) =>
    r.sinks.filter((s) => !names.has(s)).map((s) => `routes[${i}].sinks: no sink named '${s}'`),
  );
}
