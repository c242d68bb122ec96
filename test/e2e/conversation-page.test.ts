/**
 * Replies, reactions, edits and deletes on the chat page (contract, "The page, added"), driven in
 * two real (headless) Chromium pages by roles and accessible names; every wait is for what the
 * other page shows.
 */
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { TEST_MS, openPage, useBrowser, waitForStatus } from '../helpers/browser.ts';
import { startTestChat } from '../helpers/chat-server.ts';

const { browser, contexts, chats } = useBrowser();

async function join(url: string, name: string): Promise<Page> {
  const page = await openPage(browser(), contexts, url);
  const field = page.getByLabel('Name', { exact: true });
  await field.fill(name);
  await field.press('Enter');
  await waitForStatus(page, 'Connected to #general');
  return page;
}

/** The log entry whose own text (not a quote of it) is `text`. */
function message(page: Page, text: string): Locator {
  return page
    .getByRole('log')
    .locator('.msg')
    .filter({
      has: page.locator('.msg-text', {
        hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
      }),
    });
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message').fill(text);
  await page.getByLabel('Message').press('Enter');
  await message(page, text).waitFor();
  await page.getByRole('log').getByText('Sending…').waitFor({ state: 'hidden' });
}

/** Hovers a message and presses one of its actions. */
async function act(entry: Locator, action: string): Promise<void> {
  await entry.hover();
  await entry.getByRole('button', { name: action, exact: true }).click();
}

describe('conversations on the page', { timeout: TEST_MS }, () => {
  it('replies, reacts, edits and deletes, seen at once on both pages', async () => {
    const chat = await startTestChat();
    chats.push(chat);
    const alice = await join(chat.url, 'alice');
    const bob = await join(chat.url, 'bob');
    await send(alice, 'where is the plan?');
    await message(bob, 'where is the plan?').waitFor();

    // Others' messages offer no Edit or Delete.
    const onBob = message(bob, 'where is the plan?');
    await onBob.hover();
    expect(await onBob.getByRole('button', { name: 'Edit', exact: true }).isVisible()).toBe(false);
    expect(await onBob.getByRole('button', { name: 'Delete', exact: true }).isVisible()).toBe(
      false,
    );

    // Reply: the quote above the composer, then above the reply's text on both pages.
    await act(onBob, 'Reply');
    await bob.getByText('Replying to alice').waitFor();
    await send(bob, 'in the wiki');
    await bob.getByText('Replying to alice').waitFor({ state: 'hidden' });
    for (const page of [alice, bob]) {
      const quote = message(page, 'in the wiki').locator('blockquote');
      await quote.getByText('where is the plan?').waitFor();
      expect(await quote.textContent()).toContain('alice');
    }

    // React: a count on both pages, pressed for the reactor; pressing it again takes it back.
    await act(message(alice, 'in the wiki'), 'React');
    const picker = alice.getByRole('dialog', { name: 'React' });
    expect(await picker.getByRole('button').count()).toBeGreaterThanOrEqual(8);
    await picker.getByRole('button', { name: '👍' }).click();
    const aliceThumb = message(alice, 'in the wiki').getByRole('button', { name: '👍 1' });
    await aliceThumb.waitFor();
    expect(await aliceThumb.getAttribute('aria-pressed')).toBe('true');
    const bobThumb = message(bob, 'in the wiki').getByRole('button', { name: '👍 1' });
    await bobThumb.waitFor();
    expect(await bobThumb.getAttribute('aria-pressed')).toBe('false');
    await aliceThumb.click();
    await bobThumb.waitFor({ state: 'detached' });
    await aliceThumb.waitFor({ state: 'detached' });

    // Edit in place: Enter saves; the new text and "(edited)" on both pages, the quote follows.
    await act(message(alice, 'where is the plan?'), 'Edit');
    const field = alice.getByRole('textbox', { name: 'Edit message' });
    await field.fill('where is the new plan?');
    await field.press('Enter');
    for (const page of [alice, bob]) {
      const entry = message(page, 'where is the new plan?');
      await entry.getByText('(edited)').waitFor();
      await message(page, 'in the wiki')
        .locator('blockquote')
        .getByText('where is the new plan?')
        .waitFor();
    }

    // Escape cancels an edit.
    await act(message(alice, 'where is the new plan?'), 'Edit');
    await field.fill('never sent');
    await field.press('Escape');
    await field.waitFor({ state: 'detached' });
    expect(await message(alice, 'where is the new plan?').count()).toBe(1);

    // Delete, after asking: gone from both pages, and the reply's quote with it.
    await act(message(alice, 'where is the new plan?'), 'Delete');
    const ask = alice.getByRole('alertdialog', { name: 'Delete message?' });
    await ask.getByRole('button', { name: 'Delete' }).click();
    for (const page of [alice, bob]) {
      await message(page, 'where is the new plan?').waitFor({ state: 'detached' });
      await message(page, 'in the wiki').locator('blockquote').waitFor({ state: 'detached' });
    }
  });

  it('says in words when a reaction is refused because its message was deleted meanwhile', async () => {
    const chat = await startTestChat();
    chats.push(chat);
    const alice = await join(chat.url, 'alice');
    const bob = await join(chat.url, 'bob');
    await send(bob, 'soon gone');
    await act(message(alice, 'soon gone'), 'React');
    const picker = alice.getByRole('dialog', { name: 'React' });
    await picker.waitFor();

    await act(message(bob, 'soon gone'), 'Delete');
    await bob
      .getByRole('alertdialog', { name: 'Delete message?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await message(alice, 'soon gone').waitFor({ state: 'detached' });

    await picker.getByRole('button', { name: '👍' }).click();
    await alice.getByRole('alert').getByText('That message no longer exists.').waitFor();
  });
});
