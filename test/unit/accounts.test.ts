import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessUpdate, AccountEvent } from '../../src/domain/access-events.ts';
import { AccountsService } from '../../src/history/accounts-service.ts';
import { LocalStateLog } from '../../src/history/state-log.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { tempDir } from '../helpers/chat-server.ts';

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const thing of open.splice(0).reverse()) thing.close();
});

function store(file = path.join(tempDir(), 'chatroom.db')) {
  const opened = new SqliteStore(file);
  open.push(opened);
  return { accounts: opened.accounts, file };
}

const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const DAY = 24 * 3_600_000;

/** Registration events as storage would write them (the hash is computed before). */
function registered(username: string, at: number, invite: string | null = null): AccountEvent {
  return {
    type: 'user_registered',
    username,
    password_hash: `scrypt$hash-of-${username}`,
    created_at: iso(at),
    invite,
    registration: 'invite',
  };
}

/** Everything the accounts tables hold, for comparing two stores. */
function dump(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    return ['users', 'tokens', 'invites', 'ended_sessions', 'access_feed'].map((table) =>
      db.prepare(`SELECT * FROM ${table} ORDER BY 1`).all(),
    );
  } finally {
    db.close();
  }
}

describe('accounts store: one apply function', () => {
  const log: AccountEvent[] = [
    registered('Root', T0),
    {
      type: 'invite_created',
      code: 'c1',
      created_by: 'Root',
      created_at: iso(T0),
      expires_at: iso(T0 + 7 * DAY),
    },
    registered('bob', T0 + 1, 'c1'),
    // the second registration of a name (after case folding) in log order is refused
    registered('BOB', T0 + 2, 'c1'),
    // an invite is judged at the event's time, not the clock's
    registered('late', T0 + 8 * DAY, 'c1'),
    registered('nobody', T0 + 3),
    {
      type: 'token_created',
      id: 't1',
      username: 'bob',
      name: 'bot',
      token_hash: 'h',
      created_at: iso(T0 + 4),
    },
    { type: 'token_revoked', id: 't1', username: 'Root', at: T0 + 5 },
    { type: 'token_revoked', id: 't1', username: 'bob', at: T0 + 6 },
    { type: 'session_ended', sid: 's1', at: T0 + 7, until: T0 + 30 * DAY },
    {
      type: 'password_changed',
      username: 'bob',
      password_hash: 'scrypt$new',
      at: T0 + 8,
      keep_sid: 's2',
    },
    { type: 'user_disabled', username: 'bob', disabled: true, at: T0 + 9 },
    { type: 'invite_revoked', code: 'c1', at: T0 + 10 },
    registered('carol', T0 + 11, 'c1'),
  ];

  it('gives each event its outcome from the event and the stored state alone', () => {
    const { accounts } = store();
    const outcomes = log.map((event) => {
      const result = accounts.apply(event);
      return result.ok ? 'ok' : result.refusal;
    });
    expect(outcomes).toEqual([
      'ok',
      'ok',
      'ok',
      'username_taken',
      'invalid_invite',
      'invite_required',
      'ok',
      'token_not_found',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'invalid_invite',
    ]);
    expect(accounts.user('ROOT')).toMatchObject({ username: 'Root', admin: true });
    expect(accounts.user('bob')).toMatchObject({ admin: false, disabled: true });
    expect(accounts.user('bob')?.password_hash).toBe('scrypt$new');
    expect(accounts.tokens('bob')).toEqual([]);
  });

  it('ends with the same tables wherever the same events are applied in the same order', () => {
    const first = store();
    const second = store();
    for (const event of log) {
      first.accounts.apply(event);
      second.accounts.apply(event);
    }
    expect(dump(second.file)).toEqual(dump(first.file));
  });

  it('feeds the access changes, and a snapshot as of the feed position', () => {
    const { accounts } = store();
    for (const event of log) accounts.apply(event);
    const feed = accounts.feedAfter(0);
    expect(feed.map((update) => update.change)).toEqual([
      { type: 'token_revoked', id: 't1' },
      { type: 'session_ended', sid: 's1', until: T0 + 30 * DAY },
      { type: 'credentials_reset', username: 'bob', at: T0 + 8, keep_sid: 's2' },
      { type: 'user_disabled', username: 'bob', disabled: true },
    ]);
    expect(accounts.feedAfter(feed[1]!.seq)).toEqual(feed.slice(2));
    expect(accounts.snapshot(T0 + DAY)).toEqual({
      position: feed[3]!.seq,
      ended_sessions: [{ sid: 's1', until: T0 + 30 * DAY }],
      resets: [{ username: 'bob', at: T0 + 8, keep_sid: 's2' }],
      revoked_tokens: ['t1'],
      disabled_users: ['bob'],
      archived_rooms: [],
    });
    // an ended session is no longer listed once no cookie of it can be valid
    expect(accounts.snapshot(T0 + 31 * DAY).ended_sessions).toEqual([]);
  });
});

describe('accounts service', () => {
  function service(
    now: { t: number },
    options: { file?: string; onChange?: (u: AccessUpdate) => void } = {},
  ) {
    const { accounts, file } = store(options.file);
    const log = new LocalStateLog(accounts, { feedPollMs: 0, onChange: options.onChange });
    const accountsService = new AccountsService(accounts, { now: () => now.t, log: log.apply });
    open.push(log);
    return { service: accountsService, file };
  }

  it('limits failed sign-ins per username for 15 minutes, and a success clears them', async () => {
    const clock = { t: T0 };
    const { service: accounts } = service(clock);
    await accounts.register({
      username: 'alice',
      password: 'alice password',
      invite: undefined,
      registration: 'invite',
    });
    const attempt = (password: string, address = '10.0.0.1') =>
      accounts.login({ username: 'ALICE', password, address }).then(
        () => 'ok',
        (error: { code: string; retryAfterSeconds?: number }) =>
          error.retryAfterSeconds ?? error.code,
      );
    for (let i = 0; i < 9; i++) expect(await attempt('wrong')).toBe('invalid_credentials');
    expect(await attempt('alice password')).toBe('ok');
    for (let i = 0; i < 10; i++)
      expect(await attempt('wrong', `10.0.1.${i}`)).toBe('invalid_credentials');
    clock.t += 60_000;
    expect(await attempt('alice password')).toBe(14 * 60);
    clock.t += 14 * 60_000;
    expect(await attempt('alice password')).toBe('ok');
  });

  // 50 scrypt checks: seconds on an idle machine, tens of seconds on a loaded one
  it(
    'limits failed sign-ins per client address, whatever the username',
    { timeout: 120_000 },
    async () => {
      const clock = { t: T0 };
      const { service: accounts } = service(clock);
      // at once, as an attacker would: each failure counts before its (slow) check
      const guesses = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          accounts.login({ username: `user${i}`, password: 'x', address: '10.0.0.9' }),
        ),
      );
      for (const guess of guesses) {
        expect(guess).toMatchObject({
          status: 'rejected',
          reason: { code: 'invalid_credentials' },
        });
      }
      await expect(
        accounts.login({ username: 'someone', password: 'x', address: '10.0.0.9' }),
      ).rejects.toMatchObject({ code: 'rate_limited', retryAfterSeconds: 15 * 60 });
      await expect(
        accounts.login({ username: 'someone', password: 'x', address: '10.0.0.10' }),
      ).rejects.toMatchObject({ code: 'invalid_credentials' });
    },
  );

  it('refuses a registration by the policy, the name rules and taken names', async () => {
    const clock = { t: T0 };
    const { service: accounts } = service(clock);
    await accounts.register({
      username: 'root',
      password: 'root password',
      invite: undefined,
      registration: 'closed',
    });
    for (const [request, code] of [
      [{ username: 'x', registration: 'closed' }, 'registration_closed'],
      [{ username: 'x', registration: 'invite' }, 'invite_required'],
      [{ username: 'x', registration: 'invite', invite: 'nope' }, 'invalid_invite'],
      [{ username: 'Root', registration: 'open' }, 'username_taken'],
      [{ username: 'a\u200bb', registration: 'open' }, 'invalid_username'],
    ] as const) {
      await expect(
        accounts.register({ password: 'long enough', invite: undefined, ...request }),
      ).rejects.toMatchObject({ code });
    }
  });

  it('passes on its own changes and those another process wrote to the same database', async () => {
    const clock = { t: T0 };
    const seen: AccessUpdate[] = [];
    const { service: accounts, file } = service(clock, { onChange: (u) => seen.push(u) });
    await accounts.register({
      username: 'root',
      password: 'root password',
      invite: undefined,
      registration: 'invite',
    });
    await accounts.endSession('s1', T0 + DAY);
    // an operator command: another connection to the same file
    const { service: operator } = service(clock, { file });
    await operator.resetPassword('root', 'a new password');
    await accounts.endSession('s2', T0 + DAY);
    expect(seen.map((update) => update.change.type)).toEqual([
      'session_ended',
      'credentials_reset',
      'session_ended',
    ]);
    expect(seen.map((update) => update.seq)).toEqual([1, 2, 3]);
  });
});
