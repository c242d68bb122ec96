/**
 * Attachments on the chat page (contract, "The page, added"): "Attach" opens the file chooser,
 * files dropped or pasted on "Message" join the list "Attachments", each with "Remove {name}";
 * sent, an image shows as an `img` named by its file name at most 400 × 300 with its space
 * reserved, any other file as a link named by its file name, on every page.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tinyPng } from '../helpers/attachments.ts';
import {
  launchBrowser,
  openPage,
  STARTUP_MS,
  TEST_MS,
  WAIT_MS,
  waitForStatus,
} from '../helpers/browser.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';

let browser: Browser;
const contexts: BrowserContext[] = [];
const chats: TestChat[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
}, STARTUP_MS + WAIT_MS);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  await Promise.all(chats.splice(0).map((chat) => chat.close()));
}, 2 * WAIT_MS);

afterAll(async () => {
  await browser?.close();
}, WAIT_MS);

async function join(url: string, name: string): Promise<Page> {
  const page = await openPage(browser, contexts, url);
  const field = page.getByLabel('Name', { exact: true });
  await field.fill(name);
  await field.press('Enter');
  await waitForStatus(page, 'Connected to #general');
  return page;
}

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
    chats.push(chat);
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
