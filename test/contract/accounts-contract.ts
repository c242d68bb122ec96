/**
 * The accounts half of the backend contract: what a gateway's AccountsClient and its bus's access
 * feed promise, in embedded mode (in-process) and in NATS mode (requests to the history service,
 * access events through the stream). Run inside `describeBackend`, on the same backend.
 */
import { expect, it } from 'vitest';
import type { AccountsClient, MessageBus } from '../../src/bus/types.ts';
import type { AccessChange, AccessUpdate } from '../../src/domain/access-events.ts';
import { eventually } from '../helpers/eventually.ts';

export interface AccountsBackend {
  /** Two gateways' buses and accounts clients (the same twice in embedded mode). */
  buses: [MessageBus, MessageBus];
  accounts: [AccountsClient, AccountsClient];
}

const isCode = (code: string) => (error: unknown) =>
  (error as { code?: string } | undefined)?.code === code;

/** Every access change each bus delivers from now on. */
function watch(buses: readonly MessageBus[]) {
  const seen = buses.map(() => [] as AccessUpdate[]);
  const subscriptions = buses.map((bus, i) => bus.onAccessChange((u) => seen[i]!.push(u)));
  return {
    seen,
    /** Waits (the contract's 5 s) until every bus delivered a change that `match` picks. */
    async until(match: (change: AccessChange) => boolean): Promise<AccessUpdate[]> {
      return eventually(
        () => seen.map((updates) => updates.find((u) => match(u.change))),
        (found) => found.every(Boolean),
        5000,
      ) as Promise<AccessUpdate[]>;
    },
    stop: () => subscriptions.forEach((s) => s.unsubscribe()),
  };
}

export function describeAccounts(name: string, backendOf: () => AccountsBackend): void {
  const register = (accounts: AccountsClient, username: string, password = 'a good password') =>
    accounts.register({ username, password, invite: undefined, registration: 'open' });

  it('registers (the first account is the admin), refuses a taken name, signs in', async () => {
    const [a, b] = backendOf().accounts;
    expect(await register(a, `Root-${name}`)).toMatchObject({
      username: `Root-${name}`,
      admin: true,
      disabled: false,
    });
    expect(await b.hasUsers()).toBe(true);
    await expect(register(b, `ROOT-${name}`)).rejects.toSatisfy(isCode('username_taken'));
    expect(
      await b.login({ username: `root-${name}`, password: 'a good password', address: 'x' }),
    ).toMatchObject({ username: `Root-${name}`, admin: true });
    await expect(
      a.login({ username: `Root-${name}`, password: 'a wrong password', address: 'x' }),
    ).rejects.toSatisfy(isCode('invalid_credentials'));
    expect(await b.getUser(`root-${name}`)).toMatchObject({ username: `Root-${name}` });
    expect(await b.getUser(`nobody-${name}`)).toBeUndefined();
  });

  it('lets exactly one of two concurrent registrations of one name win', async () => {
    const [a, b] = backendOf().accounts;
    for (let round = 0; round < 3; round++) {
      const results = await Promise.allSettled([
        register(a, `twin${round}-${name}`, 'password one'),
        register(b, `TWIN${round}-${name}`, 'password two'),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.reason).toSatisfy(isCode('username_taken'));
      // the winner's password is the one stored
      const winner = results.indexOf(won[0]!) === 0 ? 'password one' : 'password two';
      expect(
        await a.login({ username: `twin${round}-${name}`, password: winner, address: 'x' }),
      ).toMatchObject({ username: expect.stringMatching(/^twin/i) });
    }
  });

  it('passes each access change to every bus, past the position a snapshot reflects', async () => {
    const { buses, accounts } = backendOf();
    const [a, b] = accounts;
    await register(a, `ann-${name}`);
    const position = await buses[1].accessFeedPosition();
    const before = await b.accessSnapshot(position);
    expect(before.position).toBeGreaterThanOrEqual(position);
    const changes = watch(buses);

    await a.endSession(`sid-${name}`, Date.now() + 60_000);
    const [ended] = await changes.until(
      (c) => c.type === 'session_ended' && c.sid === `sid-${name}`,
    );
    expect(ended!.seq).toBeGreaterThan(before.position);

    const token = { id: `tok-${name}`, username: `ann-${name}`, name: 'bot', tokenHash: 'h' };
    await a.createToken({ ...token, createdAt: new Date().toISOString() });
    expect((await b.listTokens(`ann-${name}`)).map((t) => t.id)).toEqual([token.id]);
    await expect(b.revokeToken(`root-${name}`, token.id)).rejects.toSatisfy(isCode('not_found'));
    await b.revokeToken(`ann-${name}`, token.id);
    await changes.until((c) => c.type === 'token_revoked' && c.id === token.id);

    const at = await b.changePassword({
      username: `ann-${name}`,
      current: 'a good password',
      next: 'a new password',
      keepSid: 'keep-me',
    });
    await changes.until(
      (c) => c.type === 'credentials_reset' && c.at === at && c.keep_sid === 'keep-me',
    );
    await expect(
      a.changePassword({ username: `ann-${name}`, current: 'wrong', next: 'x', keepSid: null }),
    ).rejects.toSatisfy(isCode('invalid_credentials'));

    expect(await a.setDisabled(`Root-${name}`, `ann-${name}`, true)).toMatchObject({
      disabled: true,
    });
    await expect(a.setDisabled(`ann-${name}`, `Root-${name}`, true)).rejects.toSatisfy(
      isCode('forbidden'),
    );
    const [disabled] = await changes.until(
      (c) => c.type === 'user_disabled' && c.username === `ann-${name}`,
    );
    // each bus saw the same changes in the same order, at increasing positions
    const [here, there] = changes.seen;
    expect(here!.map((u) => u.seq)).toEqual([...here!.map((u) => u.seq)].sort((x, y) => x - y));
    expect(there).toEqual(here);

    const after = await a.accessSnapshot(disabled!.seq);
    expect(after.position).toBeGreaterThanOrEqual(disabled!.seq);
    expect(after.ended_sessions.map((s) => s.sid)).toContain(`sid-${name}`);
    expect(after.revoked_tokens).toContain(token.id);
    expect(after.disabled_users).toContain(`ann-${name}`);
    expect(after.resets).toContainEqual({ username: `ann-${name}`, at, keep_sid: 'keep-me' });
    changes.stop();
  });

  it('makes and revokes invites (admins only)', async () => {
    const [a, b] = backendOf().accounts;
    const invite = await a.createInvite(`Root-${name}`);
    expect(invite.code).toMatch(/^[\w-]{10,}$/);
    await register(b, `invited-${name}`);
    await expect(b.createInvite(`invited-${name}`)).rejects.toSatisfy(isCode('forbidden'));
    await b.revokeInvite(`Root-${name}`, invite.code);
    await expect(
      a.register({
        username: `late-${name}`,
        password: 'a good password',
        invite: invite.code,
        registration: 'invite',
      }),
    ).rejects.toSatisfy(isCode('invalid_invite'));
  });

  it('limits failed sign-ins and says when to retry', async () => {
    const [a, b] = backendOf().accounts;
    await register(a, `guessed-${name}`);
    for (let i = 0; i < 10; i++) {
      await expect(
        (i % 2 ? a : b).login({ username: `guessed-${name}`, password: 'no', address: `a${i}` }),
      ).rejects.toSatisfy(isCode('invalid_credentials'));
    }
    await expect(
      b.login({ username: `guessed-${name}`, password: 'a good password', address: 'z' }),
    ).rejects.toMatchObject({ code: 'rate_limited', retryAfterSeconds: expect.any(Number) });
  });
}
