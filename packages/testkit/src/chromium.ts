// A real browser for the dashboard's suite and bench: Debian's chromium, headless, driven by
// playwright-core (no browser download). Each launch gets a fresh profile of its own.

import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { TestSupportError } from "./binaries.ts";

export const CHROMIUM_PATH = "/usr/bin/chromium";

const ARGS = [
  "--no-sandbox",
  "--headless",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export type ChromiumBrowser = Browser & AsyncDisposable;

/** Launches chromium (about 2 s); close it with `close()` or `await using`. */
export async function launchChromium(): Promise<ChromiumBrowser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new TestSupportError(
      `${CHROMIUM_PATH} is missing: run scripts/setup.sh (Debian package chromium)`,
    );
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ARGS,
    headless: true,
  });
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() });
}
