/// <reference lib="dom" />
// The dashboard page: four views (fleet, service, deployment, agents) behind hash routes, each
// fed by its own live feed (server-sent events; the browser resumes with the last id it saw).
// Plain DOM: a table of 1 000 rows is one string of HTML, and a changed row is replaced alone.

// Types only (erased from the bundle): what the server sends.
import type { AgentView, DeploymentSummary, FleetRow } from "../views.ts";
import { type SloSeriesWire, sloChart } from "./chart.ts";
import "./style.css";
import { type TimelineRow, timelineRows, type WireEvent } from "./timeline.ts";

interface Session {
  user: string;
  mode: string;
  actions: boolean;
  csrf: string;
}
type Summary = DeploymentSummary;
type Row = FleetRow;
type Agent = AgentView;
interface SeqEvent {
  seq: number;
  event: WireEvent;
}

const main = document.getElementById("main") as HTMLElement;
const conn = document.getElementById("conn") as HTMLElement;
let session: Session = { user: "", mode: "local", actions: false, csrf: "" };

const esc = (s: unknown) =>
  String(s ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );
const TERMINAL = new Set(["succeeded", "rolled_back", "failed", "aborted", "rejected"]);
const BAD_PHASES = new Set(["rolled_back", "failed", "aborted", "rejected", "rolling_back"]);

function dur(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
const since = (iso: string) => dur(Date.now() - Date.parse(iso));
const clock = (iso: string) => new Date(iso).toLocaleTimeString();

/** A colour as a word and a swatch: never the colour alone. */
const color = (c: string | null | undefined) =>
  c
    ? `<span class="color color-${esc(c)}"><span class="swatch" aria-hidden="true"></span>${esc(c)}</span>`
    : "—";
/** A phase as a word, with a mark for the bad ones. */
const phase = (p: string) =>
  `<span class="phase phase-${esc(p)}${BAD_PHASES.has(p) ? " bad" : ""}">${BAD_PHASES.has(p) ? "✖ " : p === "succeeded" ? "✔ " : ""}${esc(p.replace(/_/g, " "))}</span>`;
const link = (href: string, text: string) => `<a href="${esc(href)}">${esc(text)}</a>`;
const deploymentHref = (service: string, id: string) =>
  `#/deployment/${encodeURIComponent(service)}/${encodeURIComponent(id)}`;

// ---- the live feed ----

interface FeedHandlers {
  snapshot(data: { seq: number; picture: unknown; events: SeqEvent[] }): void;
  picture(p: unknown): void;
  event?(e: SeqEvent): void;
  row?(r: Row): void;
}

let current: { close(): void } | undefined;

function openFeed(scope: string, h: FeedHandlers): void {
  current?.close();
  let lastSeq: number | undefined;
  let es: EventSource | undefined;
  let closed = false;
  let retry: number | undefined;
  const open = () => {
    const after = lastSeq === undefined ? "" : `&after=${lastSeq}`;
    es = new EventSource(`/api/live?scope=${encodeURIComponent(scope)}${after}`);
    es.onopen = () => {
      conn.textContent = "● live";
      conn.dataset.state = "live";
    };
    es.onerror = () => {
      conn.textContent = "○ reconnecting…";
      conn.dataset.state = "reconnecting";
      // A feed the browser gave up on is opened again from the last event seen.
      if (es?.readyState === EventSource.CLOSED && !closed) {
        window.clearTimeout(retry);
        retry = window.setTimeout(open, 1_000);
      }
    };
    es.addEventListener("snapshot", (m) => {
      const data = JSON.parse((m as MessageEvent).data);
      lastSeq = data.seq;
      h.snapshot(data);
    });
    es.addEventListener("picture", (m) => h.picture(JSON.parse((m as MessageEvent).data)));
    es.addEventListener("row", (m) => h.row?.(JSON.parse((m as MessageEvent).data)));
    es.addEventListener("event", (m) => {
      const e = JSON.parse((m as MessageEvent).data) as SeqEvent;
      if (lastSeq !== undefined && e.seq <= lastSeq) return; // never twice
      lastSeq = e.seq;
      h.event?.(e);
    });
  };
  open();
  current = {
    close: () => {
      closed = true;
      window.clearTimeout(retry);
      es?.close();
    },
  };
}

// ---- fleet ----

/** `❄ frozen until 30/11/2026, 08:00:00 — incident 4711 (alice@ops-1)`: in words, not colour. */
function frozen(f: Row["freeze"]): string {
  if (f === null) return "—";
  const until =
    f.until === null
      ? "lifted"
      : `<time datetime="${esc(f.until)}">${esc(new Date(f.until).toLocaleString())}</time>`;
  const scope = f.scope === "all" ? " (every service)" : "";
  return `<span class="frozen">❄ frozen${scope} until ${until} — ${esc(f.reason)} (${esc(f.by)})</span>`;
}

function fleetCells(r: Row): string {
  const a = r.active;
  const f = r.inFlight;
  const l = r.last;
  return `<th scope="row">${link(`#/service/${encodeURIComponent(r.service)}`, r.service)}</th>
<td>${a ? `${color(a.color)} ${esc(a.version ?? "?")} <span class="muted">r${a.revision}</span>` : "—"}</td>
<td>${f ? `${link(deploymentHref(r.service, f.deploymentId), f.version)} ${phase(f.phase)} <span class="muted">${since(f.phaseSince)}</span>` : "—"}</td>
<td>${l ? `${link(deploymentHref(r.service, l.deploymentId), l.version)} ${phase(l.phase)} <span class="muted">${dur(l.durationMs)}</span>` : "—"}</td>
<td>${r.agents.alive} alive${r.agents.stale ? `, <span class="bad">✖ ${r.agents.stale} stale</span>` : ""}</td>
<td class="freeze">${frozen(r.freeze)}</td>
<td class="last-event">${r.lastEvent ? `${esc(r.lastEvent.type.replace("bluegreen.", ""))} <span class="muted">${clock(r.lastEvent.time)}</span>` : "—"}</td>`;
}

function rowMatches(r: Row, text: string, show: string): boolean {
  if (text && !r.service.includes(text)) return false;
  if (show === "inflight") return r.inFlight !== null;
  if (show === "bad") return r.last !== null && BAD_PHASES.has(r.last.phase);
  if (show === "stale") return r.agents.stale > 0;
  if (show === "frozen") return r.freeze !== null;
  return true;
}

function fleetPage(): void {
  document.title = "Fleet · bluegreen";
  main.innerHTML = `<h1>Fleet</h1>
<div class="filters" role="search">
  <label>Search services <input id="q" type="search" autocomplete="off"></label>
  <label>Show <select id="show"><option value="all">all</option><option value="inflight">deploying now</option><option value="bad">last deployment failed or rolled back</option><option value="stale">stale agents</option><option value="frozen">frozen</option></select></label>
  <span id="count" role="status" aria-live="polite"></span>
</div>
<table class="fleet"><caption class="sr-only">Every service, what serves it and what is deploying</caption>
<thead><tr><th scope="col">Service</th><th scope="col">Active</th><th scope="col">In flight</th><th scope="col">Last</th><th scope="col">Agents</th><th scope="col">Freeze</th><th scope="col">Last event</th></tr></thead>
<tbody id="rows"><tr><td colspan="7">loading…</td></tr></tbody></table>`;
  const tbody = document.getElementById("rows") as HTMLElement;
  const q = document.getElementById("q") as HTMLInputElement;
  const show = document.getElementById("show") as HTMLSelectElement;
  const count = document.getElementById("count") as HTMLElement;
  const rows = new Map<string, Row>();
  const trs = new Map<string, HTMLTableRowElement>();
  const applyFilter = () => {
    const text = q.value.trim().toLowerCase();
    let shown = 0;
    for (const [name, tr] of trs) {
      const ok = rowMatches(rows.get(name) as Row, text, show.value);
      tr.hidden = !ok;
      if (ok) shown++;
    }
    count.textContent = `${shown} of ${trs.size} services`;
  };
  q.addEventListener("input", applyFilter);
  show.addEventListener("change", applyFilter);
  const put = (r: Row) => {
    rows.set(r.service, r);
    let tr = trs.get(r.service);
    if (tr === undefined) {
      tr = document.createElement("tr");
      tr.dataset.service = r.service;
      trs.set(r.service, tr);
      tbody.append(tr);
    }
    tr.innerHTML = fleetCells(r);
    tr.dataset.phase = r.inFlight?.phase ?? "";
    tr.hidden = !rowMatches(r, q.value.trim().toLowerCase(), show.value);
  };
  openFeed("fleet", {
    snapshot: ({ picture }) => {
      const list = (picture as { rows: Row[] }).rows;
      rows.clear();
      trs.clear();
      tbody.innerHTML = list
        .map(
          (r) =>
            `<tr data-service="${esc(r.service)}" data-phase="${esc(r.inFlight?.phase ?? "")}">${fleetCells(r)}</tr>`,
        )
        .join("");
      for (const tr of tbody.querySelectorAll<HTMLTableRowElement>("tr")) {
        const name = tr.dataset.service as string;
        trs.set(name, tr);
      }
      for (const r of list) rows.set(r.service, r);
      applyFilter();
      tbody.dataset.loaded = String(list.length);
      performance.mark("bg-fleet-rendered");
    },
    picture: (p) => {
      for (const r of (p as { rows: Row[] }).rows) put(r);
    },
    row: put,
    event: ({ event }) => {
      const r = rows.get(event.subject);
      if (r === undefined) return;
      put({ ...r, lastEvent: { id: event.id, type: event.type, time: event.time } });
      performance.mark(`bg-event:${event.id}`);
    },
  });
}

// ---- service ----

function servicePage(service: string): void {
  document.title = `${service} · bluegreen`;
  main.innerHTML = `<h1>Service ${esc(service)}</h1><div id="svc">loading…</div>`;
  const host = document.getElementById("svc") as HTMLElement;
  const render = (p: unknown) => {
    const s = p as {
      revision: number | null;
      nodes: { blue: string[]; green: string[] } | null;
      active: Row["active"];
      deployments: Summary[];
      agents: Agent[];
    };
    const nodeAgents = (c: string) =>
      s.agents.filter((a) => a.role === "node-agent" && (a.color === c || a.color === null));
    const colourBlock = (
      c: "blue" | "green",
    ) => `<section aria-label="${c} nodes"><h3>${color(c)}${s.active?.color === c ? " (serving)" : " (idle)"}</h3>
<ul>${(s.nodes?.[c] ?? []).map((n) => `<li>${esc(n)}</li>`).join("")}</ul>
<p>Agents: ${
      nodeAgents(c)
        .map((a) => `${esc(a.agentId)} ${a.alive ? "alive" : '<span class="bad">✖ stale</span>'}`)
        .join(", ") || "none"
    }</p></section>`;
    host.innerHTML = `<p>Definition revision: ${s.revision ?? "none"} · Active: ${s.active ? `${color(s.active.color)} ${esc(s.active.version ?? "?")} (r${s.active.revision})` : "—"}</p>
<div class="colours">${colourBlock("blue")}${colourBlock("green")}</div>
<h2>Deployments</h2>
<table><thead><tr><th scope="col">Deployment</th><th scope="col">Version</th><th scope="col">Outcome</th><th scope="col">Requested</th><th scope="col">By</th><th scope="col">Duration</th></tr></thead>
<tbody>${s.deployments
      .map(
        (d) =>
          `<tr><td>${link(deploymentHref(service, d.deploymentId), d.deploymentId)}</td><td>${esc(d.version)}</td><td>${phase(d.phase)}</td><td>${esc(new Date(d.requestedAt).toLocaleString())}</td><td>${esc(d.requestedBy ?? "")}</td><td>${TERMINAL.has(d.phase) ? dur(d.durationMs) : `running ${since(d.requestedAt)}`}</td></tr>`,
      )
      .join("")}</tbody></table>`;
  };
  openFeed(`service:${service}`, { snapshot: ({ picture }) => render(picture), picture: render });
}

// ---- deployment ----

interface DeploymentPicture {
  deployment: {
    deploymentId: string;
    version: string;
    phase: string;
    requestedBy?: string;
    requestedAt: string;
    plan?: { targetColor: string; activeColor: string | null };
  } | null;
  watch: { status: string; checks: number; startedAt: number; deadline: number } | null;
  slos: SloSeriesWire[];
}

function actionButtons(service: string, p: DeploymentPicture): string {
  const d = p.deployment;
  if (!session.actions || d === null) return "";
  const can: string[] = [];
  if (d.phase === "awaiting_promotion") can.push("promote");
  if (!TERMINAL.has(d.phase)) can.push("abort");
  if (d.phase === "monitoring" || d.phase === "succeeded") can.push("rollback");
  return can
    .map(
      (a) =>
        `<button type="button" class="action action-${a}" data-action="${a}" data-service="${esc(service)}" data-deployment="${esc(d.deploymentId)}">${a[0]?.toUpperCase()}${a.slice(1)}…</button>`,
    )
    .join(" ");
}

function timelineHtml(rows: readonly TimelineRow[]): string {
  return rows
    .map(
      (r) =>
        `<tr data-seq="${r.seq}" data-event="${esc(r.name)}" class="tone-${r.tone}"><td>${esc(clock(r.time))}</td><td>+${dur(r.sinceStartMs) || "0 ms"}</td><td>${r.sincePrevMs ? `+${dur(r.sincePrevMs)}` : ""}</td><td>${r.tone === "bad" ? "✖ " : r.tone === "ok" ? "✔ " : ""}${esc(r.name)}</td><td>${esc(r.detail)}</td></tr>`,
    )
    .join("");
}

function deploymentPage(service: string, id: string): void {
  document.title = `${id} · ${service} · bluegreen`;
  main.innerHTML = `<h1>Deployment ${esc(id)} <span class="muted">of ${link(`#/service/${encodeURIComponent(service)}`, service)}</span></h1>
<div id="summary" aria-live="polite"></div><div id="actions"></div>
<h2>SLOs</h2><div id="slos"><p class="muted">no watch yet</p></div>
<h2>Timeline</h2>
<table class="timeline"><thead><tr><th scope="col">Time</th><th scope="col">Since start</th><th scope="col">Step took</th><th scope="col">Event</th><th scope="col">Details</th></tr></thead><tbody id="timeline"></tbody></table>`;
  const events: SeqEvent[] = [];
  const render = (pic: unknown) => {
    const p = pic as DeploymentPicture;
    const d = p.deployment;
    (document.getElementById("summary") as HTMLElement).innerHTML = d
      ? `<p>Version ${esc(d.version)} to ${color(d.plan?.targetColor)} · phase ${phase(d.phase)} · requested by ${esc(d.requestedBy ?? "?")} ${esc(since(d.requestedAt))} ago${p.watch ? ` · watch ${esc(p.watch.status)}, ${p.watch.checks} check(s)` : ""}</p>`
      : "<p>not (yet) recorded</p>";
    (document.getElementById("summary") as HTMLElement).dataset.phase = d?.phase ?? "";
    (document.getElementById("actions") as HTMLElement).innerHTML = actionButtons(service, p);
    const slos = document.getElementById("slos") as HTMLElement;
    if (p.slos.length > 0) {
      slos.querySelector("p.muted")?.remove();
      for (const s of p.slos) sloChart(slos, s, p.watch);
    }
  };
  const renderTimeline = () => {
    (document.getElementById("timeline") as HTMLElement).innerHTML = timelineHtml(
      timelineRows(events),
    );
  };
  openFeed(`deployment:${service}/${id}`, {
    snapshot: (s) => {
      events.splice(0, events.length, ...s.events);
      renderTimeline();
      render(s.picture);
    },
    picture: render,
    event: (e) => {
      events.push(e);
      renderTimeline();
    },
  });
}

// ---- agents ----

function agentsPage(): void {
  document.title = "Agents · bluegreen";
  main.innerHTML = `<h1>Agents</h1><table><thead><tr><th scope="col">Role</th><th scope="col">Agent</th><th scope="col">Host</th><th scope="col">Version</th><th scope="col">State</th><th scope="col">Serves</th><th scope="col">Last heartbeat</th><th scope="col">Alive</th></tr></thead><tbody id="agents"></tbody></table>`;
  const render = (p: unknown) => {
    const agents = (p as { agents: Agent[] }).agents;
    (document.getElementById("agents") as HTMLElement).innerHTML = agents
      .map(
        (a) =>
          `<tr><td>${esc(a.role)}${a.leader ? " (leader)" : ""}</td><td>${esc(a.agentId)}</td><td>${esc(a.host)}</td><td>${esc(a.version)}</td><td>${esc(a.state)}</td><td>${esc(a.services.join(", "))}${a.color ? ` ${color(a.color)}` : ""}${a.nodes.length ? ` [${a.nodes.map((n) => `${esc(n.node)}${n.healthy ? "" : " ✖ unhealthy"}`).join(", ")}]` : ""}</td><td>${esc(since(a.lastSeen))} ago</td><td>${a.alive ? "✔ yes" : '<span class="bad">✖ no</span>'}</td></tr>`,
      )
      .join("");
  };
  openFeed("agents", { snapshot: ({ picture }) => render(picture), picture: render });
}

// ---- actions ----

const dialog = document.createElement("dialog");
dialog.setAttribute("aria-labelledby", "confirm-title");
dialog.innerHTML = `<form method="dialog"><h2 id="confirm-title"></h2><p id="confirm-text"></p>
<label>Reason (recorded with the request) <input id="confirm-reason" maxlength="512"></label>
<p class="buttons"><button type="button" id="confirm-cancel">Cancel</button> <button id="confirm-ok" value="ok">Confirm</button></p></form>
<p id="confirm-result" role="status" aria-live="polite"></p>`;
document.body.append(dialog);
// Enter in the reason confirms (the default button); Cancel and Escape close with no answer.
(document.getElementById("confirm-cancel") as HTMLElement).addEventListener("click", () =>
  dialog.close(""),
);

async function runAction(action: string, service: string, deploymentId: string): Promise<void> {
  (document.getElementById("confirm-title") as HTMLElement).textContent =
    `${action[0]?.toUpperCase()}${action.slice(1)} ${service}?`;
  (document.getElementById("confirm-text") as HTMLElement).textContent =
    `${action} deployment ${deploymentId} of ${service}, as ${session.user}.`;
  (document.getElementById("confirm-reason") as HTMLInputElement).value = "";
  dialog.returnValue = "";
  dialog.showModal();
  const answer = await new Promise<string>((resolve) =>
    dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }),
  );
  const status = document.getElementById("actions") as HTMLElement;
  if (answer !== "ok") return;
  const reason = (document.getElementById("confirm-reason") as HTMLInputElement).value;
  // The session again: a dashboard that restarted since the page loaded has a new token.
  session = await fetchSession();
  const res = await fetch("/api/actions", {
    method: "POST",
    headers: { "content-type": "application/json", "x-bluegreen-csrf": session.csrf },
    body: JSON.stringify({ action, service, deploymentId, ...(reason ? { reason } : {}) }),
  });
  const body = await res.json();
  status.insertAdjacentHTML(
    "beforeend",
    `<p role="status">${res.ok ? `${esc(action)} requested (event ${esc(body.id)})` : `✖ refused: ${esc(body.error)}`}</p>`,
  );
}

document.addEventListener("click", (e) => {
  const b = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
  if (b === null) return;
  void runAction(
    b.dataset.action as string,
    b.dataset.service as string,
    b.dataset.deployment as string,
  );
});

// ---- routing ----

async function fetchSession(): Promise<Session> {
  const res = await fetch("/api/session", { cache: "no-store" });
  return (await res.json()) as Session;
}

function route(): void {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "service" && parts[1]) servicePage(parts[1]);
  else if (parts[0] === "deployment" && parts[1] && parts[2]) deploymentPage(parts[1], parts[2]);
  else if (parts[0] === "agents") agentsPage();
  else fleetPage();
  for (const a of document.querySelectorAll<HTMLAnchorElement>("header nav a")) {
    const here = a.getAttribute("href") === (parts[0] === "agents" ? "#/agents" : "#/");
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", route);
fetchSession()
  .then((s) => {
    session = s;
    (document.getElementById("who") as HTMLElement).textContent =
      `${s.user} · ${s.mode}${s.actions ? "" : " · read-only"}`;
  })
  .catch(() => undefined)
  .finally(route);
