/**
 * A headless Chromium for the page's tests (playwright-core, /usr/bin/chromium), and the checks
 * they share: the connection state, and "on screen, nothing covering it".
 */
import { chromium } from 'playwright-core';
import type {
  Browser,
  BrowserContext,
  BrowserContextOptions,
  Locator,
  Page,
} from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

// Bounds for a machine that is busy with other suites (2 cores, several test runs at once).
/** Launching Chromium. */
export const STARTUP_MS = 60_000;
/** Each navigation, action and wait for something the page shows. */
export const WAIT_MS = 30_000;
/** A whole test: a few servers and pages, several waits. */
export const TEST_MS = 180_000;

export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
};
export const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    timeout: STARTUP_MS,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh browser profile (its own cookies and localStorage) with the page open. */
export async function openPage(
  browser: Browser,
  contexts: BrowserContext[],
  url: string,
  device: BrowserContextOptions = {},
): Promise<Page> {
  const context = await browser.newContext(device);
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(url);
  return page;
}

export async function waitForStatus(
  page: Page,
  text: string | RegExp,
  timeout = WAIT_MS,
): Promise<void> {
  await page.getByRole('status').filter({ hasText: text }).first().waitFor({ timeout });
}

/**
 * The element is visible, wholly inside the viewport, and nothing covers it: a tap on its
 * centre reaches it. Then it can be used without scrolling or opening a menu.
 */
export async function expectOnScreen(page: Page, locator: Locator): Promise<void> {
  await locator.waitFor();
  const box = await locator.boundingBox();
  const viewport = page.viewportSize();
  expect(box).not.toBeNull();
  expect(viewport).not.toBeNull();
  if (!box || !viewport) return;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.y).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
  expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
  const reached = await locator.evaluate((element) => {
    const rect = element.getBoundingClientRect();
    const hit = document.elementFromPoint(rect.x + rect.width / 2, rect.y + rect.height / 2);
    return hit !== null && element.contains(hit);
  });
  expect(reached).toBe(true);
}

/** What a test opens and the suite closes after it: a chat server, a socket. */
interface Closable {
  close(): unknown;
}

/**
 * A suite's browser: Chromium launched once for the file; after each test, the pages (their
 * browser contexts) and whatever it handed to `closeAfter` are closed.
 */
export function browserSuite() {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const opened: Closable[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  }, STARTUP_MS + WAIT_MS);
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    await Promise.all(opened.splice(0).map((thing) => thing.close()));
  }, 2 * WAIT_MS);
  afterAll(async () => {
    await browser?.close();
  }, WAIT_MS);
  return {
    /** A fresh browser profile with the page at `url` open. */
    open(url: string, device: BrowserContextOptions = {}): Promise<Page> {
      if (!browser) throw new Error('the browser is not launched yet');
      return openPage(browser, contexts, url, device);
    },
    /** A fresh browser profile, closed after the test (for set-ups `open` does not make). */
    async context(options: BrowserContextOptions = {}): Promise<BrowserContext> {
      if (!browser) throw new Error('the browser is not launched yet');
      const context = await browser.newContext(options);
      contexts.push(context);
      return context;
    },
    closeAfter<T extends Closable>(thing: T): T {
      opened.push(thing);
      return thing;
    },
  };
}

/** Open mode: a fresh page that picked the display name `name` and joined #general. */
export async function joinAs(
  suite: ReturnType<typeof browserSuite>,
  url: string,
  name: string,
): Promise<Page> {
  const page = await suite.open(url);
  const field = page.getByLabel('Name', { exact: true });
  await field.fill(name);
  await field.press('Enter');
  await waitForStatus(page, 'Connected to #general');
  return page;
}
