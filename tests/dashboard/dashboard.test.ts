// The dashboard in a real browser (Debian's chromium through playwright-core) over the real
// stack (nats-server, nginx, sample apps, every agent as a process), the dashboard itself
// started as users start it (`bluegreen dashboard`). One browser and one stack for the file.
// The screenshots of docs/dashboard.md are taken here.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { BgEvent } from "@bluegreen/contracts";
import { hashPasswordLine } from "@bluegreen/dashboard";
import {
  type ChromiumBrowser,
  type DashboardProcess,
  launchChromium,
  nextEvent,
  REPO_ROOT,
  startDashboardProcess,
} from "@bluegreen/testkit";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eStack, setFaults, startE2eStack } from "../e2e/stack.ts";

const IMAGES = join(REPO_ROOT, "docs/images");
let stack: E2eStack;
let dashboard: DashboardProcess;
let readOnly: DashboardProcess;
/** Shared, with a password file and actions on. */
let signedIn: DashboardProcess;
let browser: ChromiumBrowser;
let page: Page;

const names = (events: readonly BgEvent[]) => events.map((e) => e.type.replace("bluegreen.", ""));
const deploymentUrl = (d: DashboardProcess, id: string) =>
  `${d.url}/#/deployment/${stack.service}/${id}`;

/** The event names of the timeline as shown, and their stream sequences. */
async function timeline(p: Page): Promise<{ names: string[]; seqs: number[] }> {
  return p.$$eval("#timeline tr", (rows) => ({
    names: rows.map((r) => (r as HTMLElement).dataset.event ?? ""),
    seqs: rows.map((r) => Number((r as HTMLElement).dataset.seq)),
  }));
}

const shot = (p: Page, name: string) =>
  p.screenshot({ path: join(IMAGES, `dashboard-${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(IMAGES, { recursive: true });
  [stack, browser] = await Promise.all([startE2eStack({ window: "4s" }), launchChromium()]);
  const servers = stack.base.natsUrls.join(",");
  const passwords = join(dirname(stack.base.definitionPath), "dashboard.passwd");
  writeFileSync(passwords, `${hashPasswordLine("alice", "s3cret")}\n`);
  [dashboard, readOnly, signedIn] = await Promise.all([
    startDashboardProcess(servers),
    startDashboardProcess(servers, ["--shared", "--auth-header", "X-Remote-User"]),
    startDashboardProcess(servers, ["--shared", "--password-file", passwords, "--actions"]),
  ]);
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await readOnly?.stop();
  await signedIn?.stop();
  await stack?.stop();
}, 60_000);

describe("the dashboard in a browser", () => {
  it("a deployment appears on the fleet page and moves through its phases live, without a reload; its own page shows every step", async () => {
    await page.goto(dashboard.url);
    await page.waitForSelector(`#rows tr[data-service="${stack.service}"]`);
    // Every phase the row shows, as the page changes it (a reload would lose the marker).
    await page.evaluate(() => {
      const w = window as unknown as { phases: string[]; marker: boolean };
      w.marker = true;
      w.phases = [];
      new MutationObserver(() => {
        for (const tr of document.querySelectorAll<HTMLElement>("#rows tr")) {
          const p = tr.dataset.phase ?? "";
          if (p && w.phases.at(-1) !== p) w.phases.push(p);
        }
      }).observe(document.getElementById("rows") as HTMLElement, {
        subtree: true,
        childList: true,
        attributes: true,
      });
    });
    // The deployment's own page, open before it starts, in a second tab.
    const story = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await story.goto(deploymentUrl(dashboard, "d-dash-1"));
    await story.waitForSelector("#summary");
    const run = stack.cli(["deploy", stack.service, "v1.1", "--wait", "--id", "d-dash-1"]);
    await story.waitForSelector('#timeline tr[data-event="deploy.started"]', { timeout: 20_000 });
    const result = await run;
    expect(result.code, result.stdout + result.stderr).toBe(0);

    const row = page.locator(`#rows tr[data-service="${stack.service}"]`);
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toMatch(/v1\.1 ✔ succeeded/);
    const seen = await page.evaluate(() => (window as unknown as { phases: string[] }).phases);
    expect(seen).toEqual(expect.arrayContaining(["deploying", "monitoring"]));
    expect(await page.evaluate(() => (window as unknown as { marker?: boolean }).marker)).toBe(
      true,
    );
    expect(await row.textContent()).toMatch(/green.*v1\.1/);
    await page.setViewportSize({ width: 1280, height: 300 });
    await shot(page, "fleet");

    await story.waitForSelector('#timeline tr[data-event="deploy.succeeded"]', { timeout: 10_000 });
    const shown = await timeline(story);
    expect(shown.names).toEqual(names(await stack.events("d-dash-1")));
    expect(new Set(shown.seqs).size).toBe(shown.seqs.length);
    expect([...shown.seqs].sort((a, b) => a - b)).toEqual(shown.seqs);
    const text = await story.locator("#timeline").textContent();
    expect(text).toMatch(/deploy\.progress.*step 1\/\d+ succeeded exit 0/);
    expect(text).toMatch(/readiness attempt/);
    expect(text).toMatch(/smoke\.passed/);
    expect(text).toMatch(/switch\.done.*total \d+ ms/);
    await story.close();

    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${dashboard.url}/#/service/${stack.service}`);
    await page.waitForSelector('#svc a[href$="/d-dash-1"]');
    const service = await page.locator("#svc").textContent();
    expect(service).toMatch(/d-dash-1v1\.1✔ succeeded/);
    expect(service).toMatch(/green \(serving\)/);
    await shot(page, "service");
    await page.goto(`${dashboard.url}/#/agents`);
    await page.waitForSelector("#agents tr");
    expect(await page.locator("#agents").textContent()).toMatch(/coordinator/);
    await shot(page, "agents");
  }, 90_000);

  it("a frozen service shows its freeze on the fleet page, live, and under the frozen filter; unfrozen, it no longer does", async () => {
    await page.goto(dashboard.url);
    const row = page.locator(`#rows tr[data-service="${stack.service}"]`);
    await row.waitFor();
    const set = await stack.cli([
      "freeze",
      stack.service,
      "--reason",
      "incident 4711",
      "--until",
      "10m",
    ]);
    try {
      expect(set.code, set.stderr).toBe(0);
      await expect
        .poll(() => row.locator("td.freeze").textContent(), { timeout: 10_000 })
        .toMatch(/frozen until .+ — incident 4711 \(\S+\)/);
      await page.selectOption("#show", "frozen");
      expect(await row.isVisible()).toBe(true);
    } finally {
      await stack.cli(["unfreeze", stack.service]);
    }
    await expect.poll(() => row.locator("td.freeze").textContent(), { timeout: 10_000 }).toBe("—");
    expect(await row.isVisible()).toBe(false);
    await page.selectOption("#show", "all");
  }, 60_000);

  it("a breach shows on the SLO chart and the rollback on the timeline, live", async () => {
    await page.goto(deploymentUrl(dashboard, "d-dash-breach"));
    await page.waitForSelector("#summary");
    const run = stack.cli(["deploy", stack.service, "v1.2", "--wait", "--id", "d-dash-breach"]);
    await nextEvent(
      stack.base.nc,
      stack.service,
      (e) => e.type === "bluegreen.monitor.started" && e.deploymentid === "d-dash-breach",
      "monitor.started",
      40_000,
    );
    await setFaults(stack.base.apps.blue, { errorRate: 1 });
    try {
      expect((await run).code).toBe(5);
    } finally {
      await setFaults(stack.base.apps.blue, { errorRate: 0 });
    }
    await page.waitForSelector('#timeline tr[data-event="deploy.rolled_back"]', {
      timeout: 10_000,
    });
    const figure = page.locator('figure.slo[data-breached="true"]');
    await figure.waitFor({ timeout: 10_000 });
    expect(await figure.locator("figcaption").textContent()).toMatch(/BREACHED at/);
    expect(await figure.locator("canvas").count()).toBeGreaterThan(0);
    expect((await timeline(page)).names).toEqual(expect.arrayContaining(["slo.breached"]));
    await shot(page, "rollback");
  }, 90_000);

  it("read-only mode offers no action and refuses one sent by hand; promote at a manual gate from the page; a dropped connection resumes with nothing lost or twice", async () => {
    const run = stack.cli([
      "deploy",
      stack.service,
      "v1.3",
      "--manual",
      "--wait",
      "--id",
      "d-dash-gate",
    ]);
    await nextEvent(
      stack.base.nc,
      stack.service,
      (e) => e.type === "bluegreen.deploy.awaiting_promotion" && e.deploymentid === "d-dash-gate",
      "awaiting_promotion",
      40_000,
    );
    // The shared screen, read-only: the gate is shown, no button; a request by hand is refused.
    const context = await browser.newContext({ extraHTTPHeaders: { "X-Remote-User": "carol" } });
    const screen = await context.newPage();
    await screen.goto(deploymentUrl(readOnly, "d-dash-gate"));
    await screen.waitForSelector('#summary[data-phase="awaiting_promotion"]');
    expect(await screen.locator("button[data-action]").count()).toBe(0);
    expect(await screen.locator("#who").textContent()).toMatch(/carol · shared · read-only/);
    const body = JSON.stringify({
      action: "promote",
      service: stack.service,
      deploymentId: "d-dash-gate",
    });
    const byHand = await fetch(`${readOnly.url}/api/actions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-remote-user": "carol" },
      body,
    });
    expect(byHand.status).toBe(403);
    expect(
      await fetch(`${readOnly.url}/api/actions`, { method: "POST", body }).then((r) => r.status),
    ).toBe(401);
    await context.close();
    // Cross-site on the dashboard with actions: another origin, or no token, is refused.
    for (const headers of [
      { "content-type": "application/json", origin: "http://evil.example" } as Record<
        string,
        string
      >,
      { "content-type": "application/json" },
    ]) {
      const res = await fetch(`${dashboard.url}/api/actions`, { method: "POST", headers, body });
      expect(res.status).toBe(403);
      expect((await res.json()).error).toMatch(/cross-site/);
    }

    // A password file: nobody without it; with it, the person's name and the actions.
    const noCredentials = await fetch(`${signedIn.url}/api/session`);
    expect(noCredentials.status).toBe(401);
    expect(noCredentials.headers.get("www-authenticate")).toMatch(/^Basic/);
    const alice = { authorization: `Basic ${Buffer.from("alice:s3cret").toString("base64")}` };
    const wrong = { authorization: `Basic ${Buffer.from("alice:nope").toString("base64")}` };
    expect((await fetch(`${signedIn.url}/api/session`, { headers: wrong })).status).toBe(401);
    const session = await fetch(`${signedIn.url}/api/session`, { headers: alice });
    expect(await session.json()).toMatchObject({ user: "alice", mode: "shared", actions: true });
    const noToken = await fetch(`${signedIn.url}/api/actions`, {
      method: "POST",
      headers: { ...alice, "content-type": "application/json" },
      body,
    });
    expect(noToken.status).toBe(403);

    // Promote from the page, by keyboard: it asks first, then the coordinator switches.
    await page.goto(deploymentUrl(dashboard, "d-dash-gate"));
    await page.locator("button.action-promote").focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("dialog").getAttribute("open")).not.toBeNull();
    await page.locator("#confirm-reason").focus();
    await page.keyboard.type("looks good");
    await page.keyboard.press("Enter");
    await page.waitForSelector('#timeline tr[data-event="deploy.promote_requested"]');

    // The dashboard goes away while the switch and the watch go on, and comes back on the
    // same port: the page reconnects from the last event it saw.
    // It stays away until the deployment ended (the watch alone takes 4 s): the page missed
    // the switch, the watch and the outcome, and must catch up on them.
    const mine = () => stack.log.events.filter((e) => e.deploymentid === "d-dash-gate");
    const before = mine().length;
    await dashboard.restart({
      whileDown: async () => {
        await stack.log.wait("deploy.succeeded", {
          deploymentId: "d-dash-gate",
          timeoutMs: 30_000,
        });
      },
    });
    // At least the outcome came while it was away (the switch and the watch too, unless the
    // page saw them before it went: how many depends on the machine's speed).
    const missed = mine()
      .slice(before)
      .map((e) => e.type);
    expect(missed).toContain("bluegreen.deploy.succeeded");
    const result = await run;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const events = await stack.events("d-dash-gate");
    const promote = events.find((e) => e.type === "bluegreen.deploy.promote_requested");
    expect(promote?.data).toMatchObject({ by: expect.stringMatching(/.@./), reason: "looks good" });
    expect(promote?.source).toMatch(/^bluegreen\/dashboard\//);
    await page.waitForSelector('#timeline tr[data-event="deploy.succeeded"]', { timeout: 15_000 });
    const shown = await timeline(page);
    expect(shown.names).toEqual(names(events));
    expect(new Set(shown.seqs).size).toBe(shown.seqs.length);
    expect([...shown.seqs].sort((a, b) => a - b)).toEqual(shown.seqs);
    await shot(page, "promoted");
  }, 90_000);
});
