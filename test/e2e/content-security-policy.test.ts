/**
 * The Content-Security-Policy in a real (headless) Chromium: the chat page still connects its
 * WebSocket (connect-src 'self' covers ws: to its own origin), creates a room (its own POST
 * passes the Origin check), and /docs (swagger-ui) renders, with no violation reported.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, STARTUP_MS, WAIT_MS } from '../helpers/browser.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';

const TEST_MS = 120_000;

let browser: Browser;
let chat: TestChat;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  chat = await startTestChat();
}, STARTUP_MS + WAIT_MS);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
}, WAIT_MS);

afterAll(async () => {
  await chat?.close();
  await browser?.close();
}, WAIT_MS);

/** A fresh page that records every CSP violation it reports, by event and on the console. */
async function watchedPage(): Promise<{ page: Page; violations: string[] }> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const violations: string[] = [];
  await page.exposeFunction('reportViolation', (text: string) => violations.push(text));
  await page.addInitScript(() => {
    // exposeFunction put it on window; the page's types do not know it
    const exposed = window as unknown as { reportViolation: (text: string) => void };
    document.addEventListener('securitypolicyviolation', (event) => {
      exposed.reportViolation(`${event.violatedDirective} blocked ${event.blockedURI}`);
    });
  });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return { page, violations };
}

describe('the Content-Security-Policy in Chromium', { timeout: TEST_MS }, () => {
  it('lets the chat page connect its WebSocket, send, and create a room', async () => {
    const { page, violations } = await watchedPage();
    const response = await page.goto(`${chat.url}/`);
    expect(response?.headers()['content-security-policy']).toContain("connect-src 'self'");
    await page.getByLabel('Name', { exact: true }).fill('alice');
    await page.getByLabel('Name', { exact: true }).press('Enter');
    await page.getByRole('status').filter({ hasText: 'Connected to #general' }).waitFor();
    await page.getByLabel('Message').fill('under the policy');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('log').getByText('under the policy', { exact: true }).waitFor();
    await page.getByLabel('Room name').fill('csp-room');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('button', { name: /csp-room/ }).waitFor();
    expect(violations).toEqual([]);
  });

  it('renders /docs (swagger-ui) with its own scripts and styles', async () => {
    const { page, violations } = await watchedPage();
    const response = await page.goto(`${chat.url}/docs`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByText('Create a room').first().waitFor();
    const styled = await page
      .locator('.swagger-ui')
      .first()
      .evaluate((element) => getComputedStyle(element).fontFamily);
    // swagger-ui.css is applied (the browser default is a serif font)
    expect(styled).toMatch(/sans-serif/);
    expect(violations).toEqual([]);
  });
});
