/** The operator commands, run as processes where DATA_DIR lives, beside a running server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdmin, startTestChat, tempDir } from '../helpers/chat-server.ts';
import type { AdminRun, TestChat } from '../helpers/chat-server.ts';
import { ApiClient } from '../helpers/accounts.ts';

function admin(dataDir: string, args: string[], stdin?: string): Promise<AdminRun> {
  return runAdmin({ DATA_DIR: dataDir, AUTH: 'accounts' }, args, stdin);
}

let server: TestChat;
let root: ApiClient;

beforeAll(async () => {
  server = await startTestChat({ AUTH: 'accounts' });
  root = new ApiClient(server.url);
  await root.register('root', 'root password');
});

afterAll(async () => {
  await server.close();
});

describe('admin invite', () => {
  it('prints an invite code and link that a new user registers with', async () => {
    const run = await admin(server.dataDir, ['invite']);
    expect(run.code).toBe(0);
    const code = /invite code: (\S+) \(valid until (\S+)\)/.exec(run.stdout);
    expect(code).not.toBeNull();
    expect(run.stdout).toContain(`/?invite=${code![1]}`);
    const until = Date.parse(code![2]!);
    expect(until - Date.now()).toBeGreaterThan(6.9 * 24 * 3_600_000);
    const bob = new ApiClient(server.url);
    expect(await bob.register('bob', 'bob password', code![1])).toMatchObject({ admin: false });
  });
});

describe('admin reset-password', () => {
  it('sets a generated password and ends the user’s sessions on the running server', async () => {
    const { client: socket } = await root.join(1);
    const run = await admin(server.dataDir, ['reset-password', 'ROOT']);
    expect(run.code).toBe(0);
    const password = /new password for root: (\S+)/.exec(run.stdout)?.[1];
    expect(password).toBeDefined();
    // the running server reads the change from the access feed (within a second)
    expect((await socket.waitClosed(5000)).code).toBe(4401);
    expect((await root.get('/api/me')).status).toBe(401);
    const again = new ApiClient(server.url);
    expect(await again.login('root', password!)).toMatchObject({ username: 'root', admin: true });
    const old = await again.post('/api/auth/login', {
      username: 'root',
      password: 'root password',
    });
    expect(old.status).toBe(401);
    root = again;
  });

  it('reads the new password from stdin with --stdin', async () => {
    const run = await admin(
      server.dataDir,
      ['reset-password', 'root', '--stdin'],
      'typed password\n',
    );
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).not.toContain('typed password');
    root = new ApiClient(server.url);
    await root.login('root', 'typed password');
    const weak = await admin(server.dataDir, ['reset-password', 'root', '--stdin'], 'short\n');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/8-256 characters/);
  });

  it('refuses an unknown user, a missing argument, an unknown command and a wrong DATA_DIR', async () => {
    const unknown = await admin(server.dataDir, ['reset-password', 'nobody']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No user named "nobody"');
    for (const args of [[], ['reset-password'], ['frobnicate']]) {
      const run = await admin(server.dataDir, args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toContain('usage: chatroom admin');
    }
    const elsewhere = await admin(tempDir(), ['invite']);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain('no chatroom.db');
  });
});
