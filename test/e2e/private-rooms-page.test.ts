/**
 * Private rooms and direct messages on the page (contract: "The page at `/`", "Private rooms and
 * direct messages"), in a real (headless) Chromium: the admin makes a private room with
 * "Private" and adds a second user by name, a third user does not see it, "Message {username}"
 * in the list "Members" opens a direct message that the other finds under "Direct messages".
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DESKTOP, TEST_MS, openPage, useBrowser, waitForStatus } from '../helpers/browser.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';

const { browser, contexts, chats } = useBrowser();

async function startChat(env: Record<string, string> = {}): Promise<TestChat> {
  const chat = await startTestChat(env);
  chats.push(chat);
  return chat;
}

const open = (url: string) => openPage(browser(), contexts, url, DESKTOP);

/** Creates an account on the form (the first of a server: the admin) and waits for #general. */
async function createAccount(page: Page, username: string): Promise<void> {
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(`${username} password`);
  await page.getByRole('button', { name: 'Create account' }).click();
  await waitForStatus(page, 'Connected to #general');
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('log').getByText(text, { exact: true }).waitFor();
}

const seen = (page: Page, text: string) =>
  page.getByRole('log').getByText(text, { exact: true }).waitFor();

const rooms = (page: Page) => page.getByRole('navigation', { name: 'Rooms' });
const roomButton = (page: Page, name: string) =>
  rooms(page).getByRole('button', { name, exact: true });
const members = (page: Page) => page.getByRole('list', { name: 'Members', exact: true });
const directMessages = (page: Page) =>
  page.getByRole('list', { name: 'Direct messages', exact: true });

describe('private rooms and direct messages on the page', { timeout: TEST_MS }, () => {
  it('makes a private room for two, hides it from a third, and opens a direct message from Members', async () => {
    const chat = await startChat({ AUTH: 'accounts', RATE_LIMIT: '0' });
    const alice = await open(chat.url);
    await createAccount(alice, 'alice');
    await alice.getByRole('button', { name: 'Invite' }).click();
    await alice.getByLabel(/Invite link/).waitFor();
    const link = await alice.getByLabel(/Invite link/).inputValue();

    const bob = await open(link);
    await createAccount(bob, 'bob');
    await send(alice, 'hello bob');
    await seen(bob, 'hello bob');
    await send(bob, 'hi alice');
    await seen(alice, 'hi alice');

    // A private room, made with "Private" beside "Room name".
    await alice.getByLabel('Room name').fill('plans');
    await alice.getByRole('checkbox', { name: 'Private' }).check();
    await alice.getByRole('button', { name: 'Create' }).click();
    await waitForStatus(alice, 'Connected to #plans');
    expect(await alice.getByRole('checkbox', { name: 'Private' }).isChecked()).toBe(false);
    await roomButton(alice, 'plans').waitFor();

    // Its owner adds people by name; a name nobody has is refused in words.
    await alice.getByLabel('Add member').fill('nobody');
    await alice.getByRole('button', { name: 'Add', exact: true }).click();
    await alice
      .getByRole('alert')
      .filter({ hasText: /nobody/ })
      .waitFor();
    await alice.getByLabel('Add member').fill('bob');
    await alice.getByRole('button', { name: 'Add', exact: true }).click();
    await members(alice).getByText('bob', { exact: true }).waitFor();
    await send(alice, 'the plan, for bob only');

    // bob's list shows it without a reload (read again every few seconds); he reads it.
    await roomButton(bob, 'plans').click();
    await waitForStatus(bob, 'Connected to #plans');
    await seen(bob, 'the plan, for bob only');
    await roomButton(bob, 'general').click();
    await waitForStatus(bob, 'Connected to #general');

    // A third user, invited too, does not see it.
    const carol = await open(link);
    await createAccount(carol, 'carol');
    await roomButton(carol, 'general').waitFor();
    expect(await roomButton(carol, 'plans').count()).toBe(0);

    // "Message bob" in the members of #general opens the direct message with him.
    await roomButton(alice, 'general').click();
    await waitForStatus(alice, 'Connected to #general');
    await members(alice).getByRole('button', { name: 'Message bob', exact: true }).click();
    await waitForStatus(alice, 'Connected to bob');
    expect(await alice.getByRole('heading', { level: 1 }).textContent()).toBe('bob');
    await directMessages(alice).getByRole('button', { name: 'bob', exact: true }).waitFor();
    // a direct message is not among the rooms
    expect(await rooms(alice).getByRole('list').getByRole('button').count()).toBe(2);
    await send(alice, 'just between us');

    await directMessages(bob).getByRole('button', { name: 'alice', exact: true }).click();
    await waitForStatus(bob, 'Connected to alice');
    await seen(bob, 'just between us');
    await send(bob, 'agreed');
    await seen(alice, 'agreed');
    expect(await directMessages(carol).getByRole('button').count()).toBe(0);
    expect(await rooms(carol).getByRole('list').getByRole('button').count()).toBe(1);

    await alice.getByRole('button', { name: 'Sign out' }).click();
    await alice.getByLabel('Username', { exact: true }).waitFor();
  });

  it('tells a member removed from a private room so (4403) and drops the room from the list', async () => {
    const chat = await startChat({ AUTH: 'accounts', RATE_LIMIT: '0' });
    const alice = await open(chat.url);
    await createAccount(alice, 'alice');
    await alice.getByRole('button', { name: 'Invite' }).click();
    await alice.getByLabel(/Invite link/).waitFor();
    const bob = await open(await alice.getByLabel(/Invite link/).inputValue());
    await createAccount(bob, 'bob');

    await alice.getByLabel('Room name').fill('secret');
    await alice.getByRole('checkbox', { name: 'Private' }).check();
    await alice.getByRole('button', { name: 'Create' }).click();
    await waitForStatus(alice, 'Connected to #secret');
    await alice.getByLabel('Add member').fill('bob');
    await alice.getByRole('button', { name: 'Add', exact: true }).click();
    await bob.reload();
    await roomButton(bob, 'secret').click();
    await waitForStatus(bob, 'Connected to #secret');

    await members(alice).getByRole('button', { name: 'Remove bob' }).click();
    await waitForStatus(bob, /no longer allowed in #secret/);
    await roomButton(bob, 'secret').waitFor({ state: 'detached' });
    // writing there is refused on the page, not sent into a closed room
    await bob.getByLabel('Message', { exact: true }).fill('still here?');
    await bob.getByRole('button', { name: 'Send' }).click();
    await bob
      .getByRole('alert')
      .filter({ hasText: /cannot write here/ })
      .waitFor();
  });
});

describe('the page in open mode', { timeout: TEST_MS }, () => {
  it('offers no "Private", no direct messages and no "Message {username}"', async () => {
    const chat = await startChat();
    const ann = await open(chat.url);
    await ann.getByLabel('Name', { exact: true }).fill('ann');
    await ann.getByRole('button', { name: 'Join' }).click();
    await waitForStatus(ann, 'Connected to #general');
    const ben = await open(chat.url);
    await ben.getByLabel('Name', { exact: true }).fill('ben');
    await ben.getByRole('button', { name: 'Join' }).click();
    await members(ann).getByText('ben', { exact: true }).waitFor();

    expect(await ann.getByRole('checkbox', { name: 'Private' }).isVisible()).toBe(false);
    expect(await directMessages(ann).isVisible()).toBe(false);
    expect(await members(ann).getByRole('button').count()).toBe(0);
  });
});
