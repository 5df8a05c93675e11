// What each page asks for ("scope") and the picture it gets: built from the hub, plus, for a
// deployment, its story read from the stream.

import { type BgEvent, deploymentKey, isServiceName } from "@bluegreen/contracts";
import type { JetStreamClient } from "nats";
import { readRange, type SeqEvent } from "./history.ts";
import type { Hub, HubChange } from "./hub.ts";
import { nodesOf, serves, summarizeDeployment, watchView } from "./views.ts";

export type Scope =
  | { page: "fleet" }
  | { page: "service"; service: string }
  | { page: "deployment"; service: string; deploymentId: string }
  | { page: "agents" };

const DEPLOYMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** The newest deployments a service page lists. */
const SERVICE_DEPLOYMENTS = 50;

/** `fleet`, `agents`, `service:<name>`, `deployment:<service>/<id>`; undefined if malformed. */
export function parseScope(text: string | null): Scope | undefined {
  if (text === null || text === "fleet") return { page: "fleet" };
  if (text === "agents") return { page: "agents" };
  const [page, rest = ""] = text.split(":", 2);
  if (page === "service" && isServiceName(rest)) return { page, service: rest };
  if (page === "deployment") {
    const [service = "", deploymentId = ""] = rest.split("/", 2);
    if (isServiceName(service) && DEPLOYMENT_ID.test(deploymentId))
      return { page, service, deploymentId };
  }
  return undefined;
}

/** The service whose events a page follows (undefined: every service, or none). */
export function scopeService(scope: Scope): string | undefined {
  return scope.page === "service" || scope.page === "deployment" ? scope.service : undefined;
}

/** Whether a page shows this stream event. */
export function wantsEvent(scope: Scope, event: BgEvent): boolean {
  switch (scope.page) {
    case "fleet":
      return true;
    case "agents":
      return false;
    case "service":
      return event.subject === scope.service;
    case "deployment":
      return event.subject === scope.service && event.deploymentid === scope.deploymentId;
  }
}

/** Whether a record change alters what a page shows (it then gets its picture again). */
export function wantsChange(scope: Scope, change: HubChange): boolean {
  switch (change.kind) {
    case "event":
    case "row":
    case "freezes":
      return false;
    case "agents":
      return scope.page === "agents" || scope.page === "service";
    case "service":
      return scope.page === "service" && change.service === scope.service;
    case "deployment":
    case "watch":
      return (
        (scope.page === "service" && change.service === scope.service) ||
        (scope.page === "deployment" &&
          change.service === scope.service &&
          change.deploymentId === scope.deploymentId)
      );
  }
}

/** The records a page shows (the events come separately). */
export function picture(hub: Hub, scope: Scope): unknown {
  switch (scope.page) {
    case "fleet":
      return { rows: hub.services().map((s) => hub.row(s)) };
    case "agents":
      return { agents: hub.agents() };
    case "service": {
      const entry = hub.definition(scope.service);
      return {
        service: scope.service,
        revision: entry?.revision ?? null,
        nodes: entry === undefined ? null : nodesOf(entry.definition),
        active: hub.actives.get(scope.service) ?? null,
        deployments: hub
          .deploymentsOf(scope.service)
          .slice(0, SERVICE_DEPLOYMENTS)
          .map(summarizeDeployment),
        agents: hub.agents().filter((a) => serves(a, scope.service)),
      };
    }
    case "deployment": {
      const key = deploymentKey(scope.service, scope.deploymentId);
      const d = hub.deployments.get(key);
      const w = hub.watches.get(scope.service);
      return {
        service: scope.service,
        deployment: d ?? null,
        active: hub.actives.get(scope.service) ?? null,
        watch: w !== undefined && w.deploymentId === scope.deploymentId ? watchView(w) : null,
        slos: [...(hub.series.get(key)?.values() ?? [])],
      };
    }
  }
}

/** The story of a deployment so far: its events up to `upTo`, read from the stream. */
export async function deploymentEvents(
  js: JetStreamClient,
  hub: Hub,
  scope: Extract<Scope, { page: "deployment" }>,
  upTo: number,
): Promise<SeqEvent[]> {
  const d = hub.deployments.get(deploymentKey(scope.service, scope.deploymentId));
  // A little before the request: the request itself is stamped by its sender's clock.
  const since = d === undefined ? undefined : new Date(Date.parse(d.requestedAt) - 60_000);
  const all = await readRange(js, { service: scope.service, since, upTo });
  return all.filter((e) => e.event.deploymentid === scope.deploymentId);
}
