/**
 * Search on the page (contract, "The page, added"): the field "Search" in a `search` landmark,
 * Enter searches, the results are a list "Search results" (room, author, time, text with its
 * matches in `mark`), "More results" while there are more, and a result opens its room at that
 * message, also one older than the join's replay. A real (headless) Chromium, by roles and
 * accessible names.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserSuite, joinAs, TEST_MS, waitForStatus } from '../helpers/browser.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';

const suite = browserSuite();

async function startChat(env: Record<string, string>): Promise<TestChat> {
  return suite.closeAfter(await startTestChat(env));
}

/** Someone else in room 1 (general), writing through a socket of the test's own. */
async function writer(chat: TestChat, name: string): Promise<ChatClient> {
  const { client } = await ChatClient.join(`${chat.wsUrl}/ws/1?username=${name}`);
  return suite.closeAfter(client);
}

async function search(page: Page, q: string): Promise<void> {
  const field = page.getByRole('search').getByRole('textbox', { name: 'Search' });
  await field.fill(q);
  await field.press('Enter');
}

describe('search on the page', { timeout: TEST_MS }, () => {
  it('lists what Enter finds with its matches marked, and opens a result at its message', async () => {
    // a replay of 5: the message found is older than what joining the room shows
    const chat = await startChat({ HISTORY_REPLAY: '5', RATE_LIMIT: '0' });
    const bob = await writer(chat, 'bob');
    const found = await bob.say('the Café <b>opens</b> at nine');
    for (let i = 0; i < 10; i++) await bob.say(`later ${i}`);

    const alice = await joinAs(suite, chat.url, 'alice');
    await alice.getByLabel('Room name').fill('elsewhere');
    await alice.getByRole('button', { name: 'Create' }).click();
    await waitForStatus(alice, 'Connected to #elsewhere');
    const log = alice.getByRole('log');
    expect(await log.getByText('the Café').count()).toBe(0);

    await search(alice, 'cafe opens');
    const results = alice.getByRole('list', { name: 'Search results' });
    const hit = results.getByRole('listitem');
    await hit.waitFor();
    expect(await hit.count()).toBe(1);
    // room, author, time, and the text as text (markup in it shown, not interpreted)
    const entry = hit.getByRole('button');
    expect(await entry.textContent()).toContain('#general');
    expect(await entry.textContent()).toContain('bob');
    expect(await entry.locator('time').getAttribute('datetime')).toMatch(/Z$/);
    expect(await entry.locator('.search-hit-text').textContent()).toBe(
      'the Café <b>opens</b> at nine',
    );
    expect(await hit.locator('mark').allTextContents()).toEqual(['Café', 'opens']);
    expect(await hit.locator('b').count()).toBe(0);

    await entry.click();
    await waitForStatus(alice, 'Connected to #general');
    const message = log.locator('.msg', { hasText: 'the Café <b>opens</b> at nine' });
    await message.waitFor();
    expect(await message.getAttribute('class')).toContain('msg-found');
    expect(await message.evaluate((node) => node === document.activeElement)).toBe(true);
    expect(await message.isVisible()).toBe(true);
    expect(Number(await message.getAttribute('data-id'))).toBe(found.id);
    // what came after it is there too: no gap between it and the replay
    await log.getByText('later 0', { exact: true }).waitFor();
  });

  it('pages with "More results" while there are more, and says when nothing is found', async () => {
    const chat = await startChat({ RATE_LIMIT: '0' });
    const bob = await writer(chat, 'bob');
    for (let i = 0; i < 25; i++) await bob.say(`zebra number ${i}`);
    const alice = await joinAs(suite, chat.url, 'alice');

    await search(alice, 'zebra');
    const items = alice.getByRole('list', { name: 'Search results' }).getByRole('listitem');
    await items.nth(19).waitFor();
    expect(await items.count()).toBe(20);
    // newest first
    expect(await items.first().textContent()).toContain('zebra number 24');
    const more = alice.getByRole('button', { name: 'More results' });
    await more.click();
    await items.nth(24).waitFor();
    await more.waitFor({ state: 'hidden' });
    expect(await items.last().textContent()).toContain('zebra number 0');

    await search(alice, 'giraffe');
    await alice.getByText('No messages found.').waitFor();
    expect(await items.count()).toBe(0);
    // a query the server refuses is said in its words
    await search(alice, 'in:general');
    await alice.getByText(/word, phrase or from:/).waitFor();
  });
});
