/**
 * The chat page at `/`, driven in a real (headless) Chromium the way a person uses it: by the
 * roles and accessible names the contract promises.
 */
import type {
  Browser,
  BrowserContext,
  BrowserContextOptions,
  Locator,
  Page,
} from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DESKTOP,
  expectOnScreen,
  launchBrowser,
  openPage as openPageIn,
  PHONE,
  STARTUP_MS,
  TEST_MS,
  WAIT_MS,
  waitForStatus,
} from '../helpers/browser.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';

/** The page's reconnect backoff grows to at most 10 s (connection.js backoffMaxMs). */
const RECONNECT_MS = 10_000 + WAIT_MS;

let browser: Browser;
const contexts: BrowserContext[] = [];
const chats = new Set<TestChat>();

beforeAll(async () => {
  browser = await launchBrowser();
}, STARTUP_MS + WAIT_MS);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  await Promise.all([...chats].map((chat) => stopChat(chat)));
}, 2 * WAIT_MS);

afterAll(async () => {
  await browser?.close();
}, WAIT_MS);

async function startChat(env: Record<string, string> = {}): Promise<TestChat> {
  const chat = await startTestChat(env);
  chats.add(chat);
  return chat;
}

async function stopChat(chat: TestChat): Promise<void> {
  if (!chats.delete(chat)) return;
  await chat.close();
}

/** A fresh browser profile (its own localStorage) with the page open. */
function openPage(url: string, device: BrowserContextOptions = {}): Promise<Page> {
  return openPageIn(browser, contexts, url, device);
}

/** "Room name" contains "name" too: the display name field is matched exactly. */
function nameField(page: Page) {
  return page.getByLabel('Name', { exact: true });
}

async function isFocused(locator: Locator): Promise<boolean> {
  return locator.evaluate((element) => element === document.activeElement);
}

/** Opens the page, enters a name and waits until it is connected to #general. */
async function join(url: string, name: string, device?: BrowserContextOptions): Promise<Page> {
  const page = await openPage(url, device);
  await nameField(page).fill(name);
  await nameField(page).press('Enter');
  await waitForStatus(page, 'Connected to #general');
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('log').getByText(text, { exact: true }).waitFor();
}

/** Waits until the server has acknowledged everything this page sent. */
async function waitForAcks(page: Page): Promise<void> {
  await page.getByRole('log').getByText('Sending…').waitFor({ state: 'hidden' });
}

describe('the chat page', { timeout: TEST_MS }, () => {
  it('lets two people in #general chat in real time, both ways', async () => {
    const chat = await startChat();
    const alice = await join(chat.url, 'alice');
    const bob = await join(chat.url, 'bob');

    await alice
      .getByRole('region', { name: /Members/ })
      .getByText('bob')
      .waitFor();
    await send(alice, 'hello bob');
    await bob.getByRole('log').getByText('hello bob', { exact: true }).waitFor();

    // Enter sends, like the Send button.
    await bob.getByLabel('Message').fill('hi alice');
    await bob.getByLabel('Message').press('Enter');
    await alice.getByRole('log').getByText('hi alice', { exact: true }).waitFor();

    const log = (await bob.getByRole('log').textContent()) ?? '';
    expect(log.indexOf('hello bob')).toBeLessThan(log.indexOf('hi alice'));
    expect(log).toContain('alice');
    expect(log).toContain('bob');
    await waitForAcks(alice);
    expect(await alice.getByRole('log').getByText('hello bob', { exact: true }).count()).toBe(1);
  });

  it('shows markup in a message literally, as text, in the other tab', async () => {
    const chat = await startChat();
    const alice = await join(chat.url, 'alice');
    const bob = await join(chat.url, 'bob');
    const dialogs: string[] = [];
    bob.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const markup = '<b>bold</b><img src=x onerror=alert(1)>';

    await send(alice, markup);
    await bob.getByRole('log').getByText(markup, { exact: true }).waitFor();

    expect(await bob.getByRole('log').textContent()).toContain(markup);
    expect(await bob.getByRole('log').locator('b, img, script').count()).toBe(0);
    expect(await alice.getByRole('log').locator('b, img, script').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('remembers the name after a reload', async () => {
    const chat = await startChat();
    const page = await join(chat.url, 'carol');

    await page.reload();

    expect(await nameField(page).inputValue()).toBe('carol');
    await waitForStatus(page, 'Connected to #general');
  });

  it('refuses to connect without a name and says so', async () => {
    const chat = await startChat();
    const page = await openPage(chat.url);

    await waitForStatus(page, /enter a name/i);
    await page.getByRole('button', { name: 'Join' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /enter a name/i })
      .waitFor();
    await waitForStatus(page, /enter a name/i);

    await nameField(page).fill('dave');
    await nameField(page).press('Enter');
    await waitForStatus(page, 'Connected to #general');
  });

  it('adds a created room as a button, and switching to it shows its own empty log', async () => {
    const chat = await startChat();
    const page = await join(chat.url, 'alice');
    await send(page, 'said in general');

    await page.getByLabel('Room name').fill('random');
    await page.getByRole('button', { name: 'Create' }).click();

    await page.getByRole('button', { name: 'random', exact: true }).waitFor();
    await waitForStatus(page, 'Connected to #random');
    expect(await page.getByRole('log').textContent()).not.toContain('said in general');
    await send(page, 'said in random');

    await page.getByRole('button', { name: 'general', exact: true }).click();
    await waitForStatus(page, 'Connected to #general');
    await page.getByRole('log').getByText('said in general', { exact: true }).waitFor();
    expect(await page.getByRole('log').textContent()).not.toContain('said in random');
  });

  it("shows the server's error when a room name is taken", async () => {
    const chat = await startChat();
    const page = await join(chat.url, 'alice');

    await page.getByLabel('Room name').fill('General');
    await page.getByRole('button', { name: 'Create' }).click();

    await page
      .getByRole('alert')
      .filter({ hasText: /already exists/i })
      .waitFor();
    expect(await page.getByRole('button', { name: 'General', exact: true }).count()).toBe(0);
  });

  it('shows a user who joins later the earlier messages, in order', async () => {
    const chat = await startChat();
    const alice = await join(chat.url, 'alice');
    for (const text of ['first', 'second', 'third']) await send(alice, text);
    await waitForAcks(alice);

    const bob = await join(chat.url, 'bob');

    await bob.getByRole('log').getByText('third', { exact: true }).waitFor();
    const log = (await bob.getByRole('log').textContent()) ?? '';
    expect(log.indexOf('first')).toBeLessThan(log.indexOf('second'));
    expect(log.indexOf('second')).toBeLessThan(log.indexOf('third'));
  });

  it("refuses a message longer than the server's limit (GET /api/config) before sending it", async () => {
    const chat = await startChat({ MAX_MESSAGE_CHARS: '10' });
    const page = await join(chat.url, 'alice');

    await page.getByLabel('Message').fill('x'.repeat(11));
    await page.getByRole('button', { name: 'Send' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'A message has at most 10 characters.' })
      .waitFor();
    expect(await page.getByRole('log').getByText('x'.repeat(11)).count()).toBe(0);

    await send(page, 'y'.repeat(10));
    await waitForAcks(page);
  });

  it('shows who is typing', async () => {
    const chat = await startChat();
    const alice = await join(chat.url, 'alice');
    const bob = await join(chat.url, 'bob');

    await alice.getByLabel('Message').fill('I am writing something');

    await bob.getByText('alice is typing…').waitFor();
  });

  it('reconnects by itself after the server restarts, delivering what was written meanwhile', async () => {
    const first = await startChat();
    const page = await join(first.url, 'alice');
    await send(page, 'before the restart');
    await waitForAcks(page);

    const port = new URL(first.url).port;
    await stopChat(first);
    await waitForStatus(page, /reconnecting/i);
    await send(page, 'written while the server was down');
    const second = await startChat({ PORT: port, DATA_DIR: first.dataDir });
    expect(second.url).toBe(first.url);

    await waitForStatus(page, 'Connected to #general', RECONNECT_MS);
    await send(page, 'after the restart');
    await waitForAcks(page);

    const log = page.getByRole('log');
    expect(await log.getByText('before the restart', { exact: true }).count()).toBe(1);
    expect(await log.getByText('written while the server was down').count()).toBe(1);
    const bob = await join(second.url, 'bob');
    await bob.getByRole('log').getByText('written while the server was down').waitFor();
    await bob.getByRole('log').getByText('after the restart', { exact: true }).waitFor();
    await bob.getByRole('log').getByText('before the restart', { exact: true }).waitFor();
  });
});

describe('the first visit', { timeout: TEST_MS }, () => {
  it('on a phone, shows the Name field it asks for first; a typed name and Enter join', async () => {
    const chat = await startChat();
    const page = await openPage(chat.url, PHONE);

    await waitForStatus(page, /enter a name/i);
    await expectOnScreen(page, nameField(page));
    await nameField(page).tap();
    expect(await isFocused(nameField(page))).toBe(true);
    await page.keyboard.type('erin');
    await page.keyboard.press('Enter');

    await waitForStatus(page, 'Connected to #general');
    await expectOnScreen(page, page.getByLabel('Message'));
    await expectOnScreen(page, page.getByRole('button', { name: 'Send' }));
    await send(page, 'hello from a phone');
  });

  it('on a phone, joins with the Join button; the next visit opens the chat itself', async () => {
    const chat = await startChat();
    const page = await openPage(chat.url, PHONE);

    await nameField(page).tap();
    await page.keyboard.type('frank');
    await expectOnScreen(page, page.getByRole('button', { name: 'Join' }));
    await page.getByRole('button', { name: 'Join' }).tap();
    await waitForStatus(page, 'Connected to #general');

    await page.reload();
    await waitForStatus(page, 'Connected to #general');
    await expectOnScreen(page, page.getByLabel('Message'));
    // The name can still be changed, in the menu.
    await page.getByRole('button', { name: 'Rooms' }).tap();
    await expectOnScreen(page, nameField(page));
    expect(await nameField(page).inputValue()).toBe('frank');
  });

  it('on a phone, asks on screen again when the name is cleared in the menu', async () => {
    const chat = await startChat();
    const page = await join(chat.url, 'gina', PHONE);

    await page.getByRole('button', { name: 'Rooms' }).tap();
    await nameField(page).fill('');
    await page.getByRole('button', { name: 'Close' }).tap();

    await waitForStatus(page, /enter a name/i);
    await expectOnScreen(page, nameField(page));
    await nameField(page).fill('gina');
    await nameField(page).press('Enter');
    await waitForStatus(page, 'Connected to #general');
  });

  it('on a desktop, shows the Name field on screen beside the rooms, and keeps it there', async () => {
    const chat = await startChat();
    const page = await openPage(chat.url, DESKTOP);

    await waitForStatus(page, /enter a name/i);
    await expectOnScreen(page, nameField(page));
    await expectOnScreen(page, page.getByRole('button', { name: 'general', exact: true }));
    await nameField(page).fill('hana');
    await nameField(page).press('Enter');
    await waitForStatus(page, 'Connected to #general');
    await expectOnScreen(page, page.getByLabel('Message'));

    // Renaming in place, as before: the sidebar keeps the field.
    await expectOnScreen(page, nameField(page));
    await nameField(page).fill('hana2');
    await nameField(page).press('Enter');
    await page
      .getByRole('region', { name: /Members/ })
      .getByText('hana2')
      .waitFor();
    await send(page, 'renamed');
    expect(await page.getByRole('log').getByText('hana2').count()).toBeGreaterThan(0);
  });
});
