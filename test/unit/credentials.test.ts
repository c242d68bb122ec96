import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/domain/identity.ts';
import { AccessState } from '../../src/gateway/auth/access-state.ts';
import { CredentialCodec, tokenHash } from '../../src/gateway/auth/credentials.ts';

const secret = Buffer.from('s'.repeat(32));
const codec = new CredentialCodec(secret);
const session = {
  sid: 'sid-1',
  username: 'alice',
  admin: false,
  issuedAt: 1000,
  expiresAt: 5000,
  fixedExpiry: false,
};

describe('credential codec', () => {
  it('reads back what it signed, until the session expires', () => {
    const cookie = codec.issueSession(session);
    expect(cookie).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
    expect(codec.readSession(cookie, 4999)).toEqual(session);
    expect(codec.readSession(cookie, 5000)).toBeUndefined();
    const token = codec.issueToken({ tid: 't', username: 'bob', admin: true, issuedAt: 7 });
    expect(token).toMatch(/^chr_[\w-]+\.[\w-]+$/);
    expect(codec.readToken(token)).toEqual({ tid: 't', username: 'bob', admin: true, issuedAt: 7 });
    expect(tokenHash(token)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses another key, a changed payload or signature, and one kind for the other', () => {
    const cookie = codec.issueSession(session);
    const token = codec.issueToken({ tid: 't', username: 'bob', admin: false, issuedAt: 7 });
    expect(new CredentialCodec(Buffer.from('t'.repeat(32))).readSession(cookie, 0)).toBeUndefined();
    const [, payload, mac] = cookie.split('.') as [string, string, string];
    const admin = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), adm: true }),
    ).toString('base64url');
    expect(codec.readSession(`v1.${admin}.${mac}`, 0)).toBeUndefined();
    expect(codec.readSession(`v1.${payload}.${mac.slice(1)}`, 0)).toBeUndefined();
    expect(codec.readSession(`v1.${payload}.${mac}.x`, 0)).toBeUndefined();
    expect(codec.readSession(`v1.${token.slice(4)}`, 0)).toBeUndefined();
    expect(codec.readToken(`chr_${cookie.slice(3)}`)).toBeUndefined();
    expect(codec.readToken('chr_' + 'A'.repeat(5000))).toBeUndefined();
  });
});

describe('access state', () => {
  const sessionOf = (id: string, issuedAt: number, username = 'alice'): Principal => ({
    username,
    admin: false,
    credential: { kind: 'session', id, issuedAt, expiresAt: 1e15, fixedExpiry: false },
  });
  const tokenOf = (id: string, issuedAt: number): Principal => ({
    username: 'alice',
    admin: false,
    credential: { kind: 'token', id, issuedAt },
  });

  it('refuses ended sessions, credentials older than a password change but the keeper, revoked tokens, disabled users', () => {
    const clock = { t: 100 };
    const state = new AccessState(() => clock.t);
    state.load({
      position: 2,
      ended_sessions: [{ sid: 'gone', until: 1000 }],
      resets: [],
      revoked_tokens: ['old-token'],
      disabled_users: [],
      archived_rooms: [],
    });
    expect(state.refusal(sessionOf('gone', 0))).toBe('unauthenticated');
    expect(state.refusal(sessionOf('live', 0))).toBeUndefined();
    expect(state.refusal(tokenOf('old-token', 0))).toBe('unauthenticated');
    // changes at or before the snapshot's position are in it already
    expect(state.apply({ seq: 2, change: { type: 'token_revoked', id: 'x' } })).toBeUndefined();
    expect(state.refusal(tokenOf('x', 0))).toBeUndefined();

    state.apply({
      seq: 3,
      change: { type: 'credentials_reset', username: 'alice', at: 50, keep_sid: 'keeper' },
    });
    expect(state.refusal(sessionOf('live', 49))).toBe('unauthenticated');
    expect(state.refusal(sessionOf('keeper', 10))).toBeUndefined();
    expect(state.refusal(sessionOf('fresh', 50))).toBeUndefined();
    expect(state.refusal(tokenOf('t', 49))).toBe('unauthenticated');
    expect(state.refusal(sessionOf('live', 0, 'bob'))).toBeUndefined();

    state.apply({ seq: 4, change: { type: 'user_disabled', username: 'alice', disabled: true } });
    expect(state.refusal(sessionOf('fresh', 50))).toBe('user_disabled');
    state.apply({ seq: 5, change: { type: 'user_disabled', username: 'alice', disabled: false } });
    expect(state.refusal(sessionOf('fresh', 50))).toBeUndefined();

    clock.t = 1000;
    expect(state.refusal(sessionOf('gone', 0, 'bob'))).toBeUndefined();
    expect(
      state.refusal({ username: 'x', admin: false, credential: { kind: 'open' } }),
    ).toBeUndefined();
  });

  it('takes a snapshot loaded anew in place of what it knew (after the feed lost its place)', () => {
    const state = new AccessState(() => 100);
    state.load({
      position: 7,
      ended_sessions: [{ sid: 'gone', until: 1000 }],
      resets: [],
      revoked_tokens: ['old-token'],
      disabled_users: ['alice'],
      archived_rooms: [],
    });
    expect(state.refusal(sessionOf('live', 0))).toBe('user_disabled');
    state.load({
      position: 9,
      ended_sessions: [],
      resets: [],
      revoked_tokens: ['new-token'],
      disabled_users: [],
      archived_rooms: [],
    });
    expect(state.refusal(sessionOf('live', 0))).toBeUndefined();
    expect(state.refusal(sessionOf('gone', 0, 'bob'))).toBeUndefined();
    expect(state.refusal(tokenOf('old-token', 0))).toBeUndefined();
    expect(state.refusal(tokenOf('new-token', 0))).toBe('unauthenticated');
    expect(state.apply({ seq: 9, change: { type: 'token_revoked', id: 'x' } })).toBeUndefined();
  });
});
