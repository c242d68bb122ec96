/**
 * Unread counts and notifications on the page (contract, "The page, added"), in real (headless)
 * Chromium pages, by roles and accessible names: a room with unread messages keeps its name as
 * accessible name and is described "N unread, M mentions", the title counts them, opening it
 * shows a "New messages" separator, and reading it clears the badge on the user's other page.
 * The "Notifications" combobox stores the level; "Enable notifications" shows while the browser
 * was not asked; a `mention` frame makes a notification while the page is hidden.
 *
 * Two things a headless browser cannot do are done by a script the page loads first: it says the
 * page is hidden when the test asks (a headless tab is always visible), and it keeps each
 * Notification the page makes (the real one, shown by the browser) so that the test can read and
 * click it. Nothing else is stubbed.
 */
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { TEST_MS, WAIT_MS, browserSuite, waitForStatus } from '../helpers/browser.ts';
import { startTestChat } from '../helpers/chat-server.ts';

const suite = browserSuite();

/** Hidden when the test says so; every Notification the page makes, kept. */
const PAGE_HOOKS = `
  window.__hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get: () => (window.__hidden ? 'hidden' : 'visible'),
  });
  window.__notifications = [];
  const Real = window.Notification;
  class Kept extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push(this);
    }
  }
  Object.defineProperty(Kept, 'permission', { get: () => Real.permission });
  Kept.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Kept;
`;

async function join(url: string, name: string, notifications = false): Promise<Page> {
  const context = await suite.context();
  if (notifications) await context.grantPermissions(['notifications'], { origin: url });
  await context.addInitScript(PAGE_HOOKS);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(url);
  const field = page.getByLabel('Name', { exact: true });
  await field.fill(name);
  await field.press('Enter');
  await waitForStatus(page, 'Connected to #general');
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message').fill(text);
  await page.getByLabel('Message').press('Enter');
  await page.getByRole('log').getByText('Sending…').waitFor({ state: 'hidden' });
}

const roomButton = (page: Page, name: string): Locator =>
  page.getByRole('navigation').getByRole('button', { name, exact: true });

/** The accessible description of an element (its aria-describedby's text), '' without one. */
function description(locator: Locator): Promise<string> {
  return locator.evaluate((element) => {
    const ids = element.getAttribute('aria-describedby')?.split(/\s+/) ?? [];
    return ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
  });
}

async function waitForDescription(locator: Locator, text: string): Promise<void> {
  const page = locator.page();
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const now = await description(locator);
    if (now === text) return;
    if (Date.now() > deadline) throw new Error(`description "${now}", not "${text}"`);
    await page.waitForTimeout(100);
  }
}

describe('unread counts on the page', { timeout: TEST_MS }, () => {
  it('badges a room with its count and mentions, shows "New messages", and clears on the other page', async () => {
    const chat = await startTestChat();
    suite.closeAfter(chat);
    const bob = await join(chat.url, 'bob');
    // bob makes "side" (and so joins it), then goes back to general
    await bob.getByLabel('Room name').fill('side');
    await bob.getByRole('button', { name: 'Create' }).click();
    await waitForStatus(bob, 'Connected to #side');
    await roomButton(bob, 'general').click();
    await waitForStatus(bob, 'Connected to #general');
    const bobElsewhere = await join(chat.url, 'bob');

    const alice = await join(chat.url, 'alice');
    await roomButton(alice, 'side').click();
    await waitForStatus(alice, 'Connected to #side');
    await send(alice, 'first news');
    await send(alice, '@bob second news');

    const side = roomButton(bob, 'side');
    await waitForDescription(side, '2 unread, 1 mentions');
    // the count is seen, not heard: the name stays the room's
    expect(await side.getAttribute('aria-describedby')).toBeTruthy();
    expect(await bob.title()).toMatch(/^\(2\) /);
    await waitForDescription(roomButton(bobElsewhere, 'side'), '2 unread, 1 mentions');

    await side.click();
    await waitForStatus(bob, 'Connected to #side');
    const separator = bob.getByRole('separator', { name: 'New messages' });
    await separator.waitFor();
    const next = await separator.evaluate((node) => node.nextElementSibling?.textContent ?? '');
    expect(next).toContain('first news');
    // bob reads it here: the other page's badge clears
    await waitForDescription(roomButton(bobElsewhere, 'side'), '');
    await waitForDescription(side, '');
    expect(await bob.title()).not.toMatch(/^\(/);
  });

  it('keeps the room’s level from the "Notifications" combobox, and offers to enable notifications until asked', async () => {
    const chat = await startTestChat();
    suite.closeAfter(chat);
    const carol = await join(chat.url, 'carol');
    const level = carol.getByRole('combobox', { name: 'Notifications' });
    expect(await level.inputValue()).toBe('mentions');
    expect(await level.locator('option').allTextContents()).toEqual([
      'All messages',
      'Mentions',
      'Nothing',
    ]);
    await carol.getByRole('button', { name: 'Enable notifications' }).waitFor();
    await level.selectOption({ label: 'Nothing' });
    const stored = async () => {
      const response = await fetch(`${chat.url}/api/servers?username=carol`);
      const [general] = (await response.json()) as Array<{ notify: string }>;
      return general?.notify;
    };
    const deadline = Date.now() + WAIT_MS;
    while ((await stored()) !== 'none' && Date.now() < deadline) await carol.waitForTimeout(100);
    expect(await stored()).toBe('none');

    const dave = await join(chat.url, 'dave', true);
    expect(await dave.getByRole('button', { name: 'Enable notifications' }).isVisible()).toBe(
      false,
    );
  });

  it('shows a notification per mention while hidden; clicking it opens the room at the message', async () => {
    const chat = await startTestChat();
    suite.closeAfter(chat);
    const erin = await join(chat.url, 'erin', true);
    await erin.getByLabel('Room name').fill('ops');
    await erin.getByRole('button', { name: 'Create' }).click();
    await waitForStatus(erin, 'Connected to #ops');
    await roomButton(erin, 'general').click();
    await waitForStatus(erin, 'Connected to #general');
    await erin.evaluate(() => {
      (window as unknown as { __hidden: boolean }).__hidden = true;
      document.dispatchEvent(new Event('visibilitychange'));
    });

    const frank = await join(chat.url, 'frank');
    await roomButton(frank, 'ops').click();
    await waitForStatus(frank, 'Connected to #ops');
    const long = `@erin ${'x'.repeat(150)}`;
    await send(frank, long);

    const shown = await erin.waitForFunction(() => {
      const kept = (window as unknown as { __notifications: Notification[] }).__notifications;
      return kept.length > 0 && { title: kept[0]!.title, body: kept[0]!.body, tag: kept[0]!.tag };
    });
    const notification = (await shown.jsonValue()) as { title: string; body: string; tag: string };
    expect(notification.title).toBe('frank in ops');
    expect(Array.from(notification.body)).toHaveLength(100);
    expect(long.startsWith(notification.body)).toBe(true);
    expect(Number(notification.tag)).toBeGreaterThan(0);

    await erin.evaluate(() => {
      const kept = (window as unknown as { __notifications: Notification[] }).__notifications;
      kept[0]!.dispatchEvent(new Event('click'));
    });
    await waitForStatus(erin, 'Connected to #ops');
    await erin.locator(`#log .msg[data-id="${notification.tag}"]`).waitFor();
  });
});
