/**
 * Replies, reactions, edits and deletes on the chat page (contract, "The page, added"), driven in
 * two real (headless) Chromium pages by roles and accessible names; every wait is for what the
 * other page shows. Attachments too: "Attach" opens the file chooser, files dropped or pasted on
 * "Message" join the list "Attachments", each with "Remove {name}"; sent, an image shows as an
 * `img` named by its file name at most 400 × 300 with its space reserved, any other file as a
 * link named by its file name, on every page.
 */
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { tinyPng } from '../helpers/attachments.ts';
import { browserSuite, joinAs, TEST_MS } from '../helpers/browser.ts';
import { startTestChat } from '../helpers/chat-server.ts';

const suite = browserSuite();
const join = (url: string, name: string) => joinAs(suite, url, name);

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
    const chat = suite.closeAfter(await startTestChat());
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
    const chat = suite.closeAfter(await startTestChat());
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

/** Fires a paste (or a drop) of a text file named `name` on "Message", as the browser would. */
async function handOver(page: Page, how: 'paste' | 'drop', name: string): Promise<void> {
  await page.getByLabel('Message').evaluate(
    (field, { how, name }) => {
      const data = new DataTransfer();
      data.items.add(new File([`the file ${name}`], name, { type: 'text/plain' }));
      const event =
        how === 'paste'
          ? new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })
          : new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true });
      field.dispatchEvent(event);
    },
    { how, name },
  );
}

describe('attachments on the page', { timeout: TEST_MS }, () => {
  it('attaches, removes, uploads and shows images and files on every page', async () => {
    const chat = await startTestChat();
    suite.closeAfter(chat);
    const alice = await join(chat.url, 'alice');
    const bob = await join(chat.url, 'bob');

    const chooser = alice.waitForEvent('filechooser');
    await alice.getByRole('button', { name: 'Attach', exact: true }).click();
    await (
      await chooser
    ).setFiles([
      { name: 'plan.png', mimeType: 'image/png', buffer: tinyPng(800, 600) },
      { name: 'draft.txt', mimeType: 'text/plain', buffer: Buffer.from('not this one') },
    ]);
    await handOver(alice, 'paste', 'pasted.txt');
    await handOver(alice, 'drop', 'dropped.txt');
    const chosen = alice.getByRole('list', { name: 'Attachments' });
    await expect
      .poll(() => chosen.getByRole('listitem').allTextContents())
      .toEqual([
        expect.stringContaining('plan.png'),
        expect.stringContaining('draft.txt'),
        expect.stringContaining('pasted.txt'),
        expect.stringContaining('dropped.txt'),
      ]);
    await chosen.getByRole('button', { name: 'Remove draft.txt' }).click();
    await expect.poll(() => chosen.getByRole('listitem').count()).toBe(3);

    await alice.getByLabel('Message').fill('the plan');
    await alice.getByLabel('Message').press('Enter');
    await chosen.waitFor({ state: 'hidden' });

    for (const page of [bob, alice]) {
      const log = page.getByRole('log');
      const image = log.getByRole('img', { name: 'plan.png' });
      await image.waitFor();
      // 800 × 600 shown at 400 × 300, its space reserved by its attributes before it loads
      expect(await image.getAttribute('width')).toBe('400');
      expect(await image.getAttribute('height')).toBe('300');
      await expect
        .poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth))
        .toBe(800);
      const box = await image.boundingBox();
      expect(box && [Math.round(box.width), Math.round(box.height)]).toEqual([400, 300]);
      for (const name of ['pasted.txt', 'dropped.txt']) {
        const link = log.getByRole('link', { name, exact: true });
        await link.waitFor();
        expect(await link.getAttribute('href')).toMatch(/^\/api\/attachments\/[\w-]{22}$/);
      }
      await log.getByText('the plan', { exact: true }).waitFor();
      expect(await log.getByRole('link', { name: 'draft.txt' }).count()).toBe(0);
    }
  });
});
