/**
 * The page in accounts mode, in a real (headless) Chromium: the sign-in form, the first (admin)
 * account, an invite link opened in another browser, refusals in an alert, sign-out, a session
 * that ends under the page, and the form first on a phone.
 */
import { SignJWT } from 'jose';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  DESKTOP,
  PHONE,
  TEST_MS,
  expectOnScreen,
  openPage,
  useBrowser,
  waitForStatus,
} from '../helpers/browser.ts';
import { ApiClient } from '../helpers/accounts.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';

const { browser, contexts, chats } = useBrowser();

async function startChat(env: Record<string, string> = {}): Promise<TestChat> {
  const chat = await startTestChat({ AUTH: 'accounts', ...env });
  chats.push(chat);
  return chat;
}

const open = (url: string, device = DESKTOP) => openPage(browser(), contexts, url, device);

/** "Password" is also part of "Current password" and "New password" in the account panel. */
const usernameField = (page: Page) => page.getByLabel('Username', { exact: true });
const passwordField = (page: Page) => page.getByLabel('Password', { exact: true });

async function fillForm(page: Page, username: string, password: string): Promise<void> {
  await usernameField(page).fill(username);
  await passwordField(page).fill(password);
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('log').getByText(text, { exact: true }).waitFor();
}

describe('the page in accounts mode', { timeout: TEST_MS }, () => {
  it('makes the admin on a fresh server; an invite link lets a second person in; they chat', async () => {
    const chat = await startChat();
    const admin = await open(chat.url);

    await admin.getByText(/creates the first one, the admin account/i).waitFor();
    await fillForm(admin, 'alice', 'correct horse battery');
    await admin.getByRole('button', { name: 'Create account' }).click();
    await waitForStatus(admin, 'Connected to #general');
    expect(await admin.getByLabel('Name', { exact: true }).count()).toBe(0);
    await admin.getByText('Signed in as').waitFor();

    await admin.getByRole('button', { name: 'Invite' }).click();
    // shown once the link is in it
    await admin.getByLabel(/Invite link/).waitFor();
    const link = await admin.getByLabel(/Invite link/).inputValue();
    expect(link).toMatch(new RegExp(`^${chat.url}/\\?invite=[^&]+$`));
    await admin.getByRole('button', { name: 'Copy' }).first().waitFor();

    // Without the link, registration asks for an invite.
    const bob = await open(chat.url);
    await fillForm(bob, 'bob', 'another good password');
    await bob.getByRole('button', { name: 'Create account' }).click();
    await bob
      .getByRole('alert')
      .filter({ hasText: /invite/i })
      .waitFor();

    await bob.goto(link);
    expect(await bob.getByText(/creates the first one/i).count()).toBe(0);
    await bob.getByText(/Your invite is filled in/).waitFor();
    await fillForm(bob, 'bob', 'another good password');
    await bob.getByRole('button', { name: 'Create account' }).click();
    await waitForStatus(bob, 'Connected to #general');
    // the invite leaves the address once used
    expect(new URL(bob.url()).search).toBe('');
    expect(await bob.getByRole('button', { name: 'Invite' }).isVisible()).toBe(false);

    await admin
      .getByRole('region', { name: /Members/ })
      .getByText('bob')
      .waitFor();
    await send(admin, 'welcome, bob');
    await bob.getByRole('log').getByText('welcome, bob', { exact: true }).waitFor();
    await send(bob, 'thanks, alice');
    await admin.getByRole('log').getByText('thanks, alice', { exact: true }).waitFor();
    expect(await admin.getByRole('log').textContent()).toContain('bob');
  });

  it('shows a refused sign-in in an alert and stays on the form; the right password gets in', async () => {
    const chat = await startChat({ REGISTRATION: 'open' });
    await new ApiClient(chat.url).register('carol', 'carol password');
    const page = await open(chat.url);

    expect(await page.getByText(/admin account/i).count()).toBe(0);
    await fillForm(page, 'carol', 'wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /invalid|wrong|incorrect/i })
      .waitFor();
    expect(await usernameField(page).isVisible()).toBe(true);
    expect(await page.getByLabel('Message').isVisible()).toBe(false);

    // A registration refused (the name is taken, whatever its case) is told the same way.
    await fillForm(page, 'Carol', 'some other password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /taken|exists/i })
      .waitFor();

    await fillForm(page, 'carol', 'carol password');
    await passwordField(page).press('Enter');
    await waitForStatus(page, 'Connected to #general');
  });

  it('says in the alert, in words, that sign-in is paused after 10 failures (429) and for how long', async () => {
    const chat = await startChat({ REGISTRATION: 'open' });
    await new ApiClient(chat.url).register('lena', 'lena password');
    const guesser = new ApiClient(chat.url);
    for (let i = 0; i < 10; i++) {
      const answer = await guesser.post('/api/auth/login', {
        username: 'lena',
        password: `guess ${i}`,
      });
      expect(answer.status).toBe(401);
    }
    const page = await open(chat.url);

    // Even the right password waits now: the page says why and when, and stays on the form.
    await fillForm(page, 'lena', 'lena password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert').filter({ hasText: /too many failed sign-ins/i });
    await alert.waitFor();
    const said = await alert.textContent();
    expect(said).toMatch(/Try again in \d+ (seconds?|minutes?)\.$/);
    expect(said).not.toMatch(/later/i);
    expect(await usernameField(page).isVisible()).toBe(true);
    expect(await page.getByLabel('Message', { exact: true }).isVisible()).toBe(false);
  });

  it('signs out back to the form; a reload then asks again, and signing in opens the last room', async () => {
    const chat = await startChat();
    const page = await open(chat.url);
    await fillForm(page, 'dana', 'dana password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await waitForStatus(page, 'Connected to #general');
    await page.getByLabel('Room name').fill('random');
    await page.getByRole('button', { name: 'Create' }).click();
    await waitForStatus(page, 'Connected to #random');

    await page.reload();
    await waitForStatus(page, 'Connected to #random');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await usernameField(page).waitFor();
    expect(await page.getByLabel('Message').isVisible()).toBe(false);
    await page.reload();
    await usernameField(page).waitFor();
    await waitForStatus(page, /sign in/i);

    await fillForm(page, 'dana', 'dana password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitForStatus(page, 'Connected to #random');
  });

  it('returns to the form with a message when the session ends elsewhere (4401)', async () => {
    const chat = await startChat();
    const page = await open(chat.url);
    await fillForm(page, 'erin', 'erin password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await waitForStatus(page, 'Connected to #general');

    // The password changed on another device: every other session ends, this one too.
    const other = new ApiClient(chat.url);
    await other.login('erin', 'erin password');
    const changed = await other.call('PUT', '/api/me/password', {
      current: 'erin password',
      new: 'erin new password',
    });
    expect(changed.status).toBe(204);

    await page
      .getByRole('alert')
      .filter({ hasText: 'Your session ended; sign in again.' })
      .waitFor();
    await usernameField(page).waitFor();
    await fillForm(page, 'erin', 'erin new password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitForStatus(page, 'Connected to #general');
  });
});

describe('the account panel', { timeout: TEST_MS }, () => {
  it('makes a token shown once, lists and revokes it, and changes the password', async () => {
    const chat = await startChat();
    const page = await open(chat.url);
    await fillForm(page, 'ivan', 'ivan password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await waitForStatus(page, 'Connected to #general');

    await page.getByText('Access tokens and password').click();
    await page.getByLabel('Token name').fill('pingbot');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByLabel(/New token/).waitFor();
    const token = await page.getByLabel(/New token/).inputValue();
    expect(token).toMatch(/^chr_/);
    await page.getByRole('list', { name: 'Tokens' }).getByText('pingbot').waitFor();
    const bot = new ApiClient(chat.url);
    bot.bearer = token;
    expect((await bot.get('/api/me')).body.username).toBe('ivan');

    await page.getByRole('button', { name: 'Revoke pingbot' }).click();
    await page.getByRole('button', { name: 'Revoke pingbot' }).waitFor({ state: 'detached' });
    expect((await bot.get('/api/me')).status).toBe(401);

    await page.getByLabel('Current password').fill('wrong password');
    await page.getByLabel('New password').fill('ivan new password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').filter({ hasText: /wrong/i }).waitFor();
    await page.getByLabel('Current password').fill('ivan password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText(/Password changed/).waitFor();
    // this session goes on; the new password signs in elsewhere
    await send(page, 'still here');
    await new ApiClient(chat.url).login('ivan', 'ivan new password');
  });
});

describe('the page told no', { timeout: TEST_MS }, () => {
  it('says so when the user is disabled while chatting (4403)', async () => {
    const chat = await startChat({ REGISTRATION: 'open' });
    const admin = new ApiClient(chat.url);
    await admin.register('root', 'root password');
    const page = await open(chat.url);
    await fillForm(page, 'gina', 'gina password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await waitForStatus(page, 'Connected to #general');

    const disabled = await admin.call('PATCH', '/api/users/gina', { disabled: true });
    expect(disabled.status).toBe(200);

    await waitForStatus(page, /no longer allowed/i);
    await page
      .getByRole('alert')
      .filter({ hasText: /no longer allowed/i })
      .waitFor();
  });
});

const JWT_SECRET = 'a shared secret of at least thirty-two bytes';

describe('the page in JWT mode', { timeout: TEST_MS }, () => {
  it('takes the token from #access_token, chats as its user, and without one says it needs one', async () => {
    const chat = await startChat({ AUTH: 'jwt', JWT_SECRET });
    const jwt = await new SignJWT({ sub: 'hana' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
      .sign(new TextEncoder().encode(JWT_SECRET));

    const stranger = await open(chat.url);
    await stranger.getByText(/needs a sign-in link/i).waitFor();
    expect(await usernameField(stranger).isVisible()).toBe(false);

    const page = await open(`${chat.url}/#access_token=${jwt}`);
    await waitForStatus(page, 'Connected to #general');
    // the token leaves the address at once
    expect(page.url()).not.toContain('access_token');
    await send(page, 'signed by the operator');
    expect(await page.getByRole('log').textContent()).toContain('hana');

    await page.reload();
    await waitForStatus(page, 'Connected to #general');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText(/needs a sign-in link/i).waitFor();
  });
});

describe('the first visit in accounts mode', { timeout: TEST_MS }, () => {
  it('on a phone, shows the sign-in form first, no menu to open', async () => {
    const chat = await startChat();
    const page = await open(chat.url, PHONE);

    await expectOnScreen(page, usernameField(page));
    await expectOnScreen(page, passwordField(page));
    await expectOnScreen(page, page.getByRole('button', { name: 'Sign in' }));
    await expectOnScreen(page, page.getByRole('button', { name: 'Create account' }));
    await usernameField(page).tap();
    await page.keyboard.type('frank');
    await passwordField(page).tap();
    await page.keyboard.type('frank password');
    await page.getByRole('button', { name: 'Create account' }).tap();

    await waitForStatus(page, 'Connected to #general');
    await expectOnScreen(page, page.getByLabel('Message'));
    await send(page, 'hello from a phone');
    await page.getByRole('button', { name: 'Rooms' }).tap();
    await expectOnScreen(page, page.getByRole('button', { name: 'Sign out' }));
  });
});
