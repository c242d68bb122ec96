/** Failed sign-ins are limited: 10 per username or 50 per client address within 15 minutes. */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { ApiClient } from '../helpers/accounts.ts';

const servers: TestChat[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function serverWithUser() {
  const server = await startTestChat({ AUTH: 'accounts', REGISTRATION: 'open' });
  servers.push(server);
  await new ApiClient(server.url).register('alice', 'the right password');
  return server;
}

function login(server: TestChat, username: string, password: string) {
  return new ApiClient(server.url).post('/api/auth/login', { username, password });
}

// Every failure costs a scrypt check (64 ms idle): tens of seconds on a loaded machine.
describe('login limits', { timeout: 120_000 }, () => {
  it('after 10 failures for one username: 429 rate_limited with Retry-After, even with the right password', async () => {
    const server = await serverWithUser();
    for (let i = 0; i < 10; i++) {
      expect((await login(server, 'alice', `wrong ${i}`)).status).toBe(401);
    }
    for (const password of ['wrong again', 'the right password']) {
      const answer = await login(server, 'Alice', password);
      expect(answer).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
      const retryAfter = Number(answer.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(14 * 60);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    }
    // another user from the same address is not held back by alice's limit
    await new ApiClient(server.url).register('bob', 'bob password');
    expect((await login(server, 'bob', 'bob password')).status).toBe(200);
  });

  it('after 50 failures from one client address: 429 for any username', async () => {
    const server = await serverWithUser();
    for (let i = 0; i < 50; i++) {
      expect((await login(server, `guess-${i % 5}`, `wrong ${i}`)).status).toBe(401);
    }
    const answer = await login(server, 'alice', 'the right password');
    expect(answer).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
