import type Database from 'better-sqlite3';
import { accessChangeOf } from '../domain/access-events.ts';
import type {
  AccessChange,
  AccessSnapshot,
  AccessUpdate,
  AccountEvent,
  StateEvent,
} from '../domain/access-events.ts';
import { isAttachmentEvent } from '../domain/attachments.ts';
import { isRoomStateEvent } from '../domain/rooms.ts';
import { isReaderEvent } from '../domain/unread.ts';
import type { Room, RoomRefusal } from '../domain/rooms.ts';
import type { TokenInfo, User } from '../domain/identity.ts';
import { nameKey } from '../domain/names.ts';
import type { AttachmentsStore } from './attachments-store.ts';
import type { ReadersStore } from './readers-store.ts';
import type { RoomsStore } from './rooms-store.ts';

/** A user with their password hash, for verifying a login (never sent anywhere). */
export interface StoredUser extends User {
  password_hash: string | null;
}

/** Why an event was not applied (the service answers each with its error code). */
export type AccountRefusal =
  | 'username_taken'
  | 'invite_required'
  | 'invalid_invite'
  | 'registration_closed'
  | 'user_not_found'
  | 'token_not_found'
  | 'invite_not_found';

type RegistrationEvent = Extract<AccountEvent, { type: 'user_registered' }>;

/**
 * How an event was applied; a room event says what room (and members) it left, the sweep of
 * unsent uploads which it `removed`.
 */
export type ApplyResult =
  | { ok: true; room?: Room; members?: string[]; existed?: boolean; removed?: string[] }
  | { ok: false; refusal: AccountRefusal | RoomRefusal };

/** How long access changes stay in the feed: a process reading it lags by seconds, not days. */
const FEED_KEEP_MS = 24 * 3_600_000;

interface UserRow {
  username: string;
  admin: number;
  disabled: number;
  created_at: string;
  password_hash: string | null;
}

const USER_COLUMNS = 'username, admin, disabled, created_at, password_hash';

/**
 * Accounts, tokens, invites and ended sessions, beside the rooms in SQLite, and the one entry for
 * every state event (rooms' too, written by RoomsStore). Every change goes through `apply(event)`: one transaction that checks what the event needs (a free name, a valid
 * invite) against the stored state, writes it, and appends the access change gateways must
 * learn of to `access_feed`. The checks use only the event and the stored state (no clock), so
 * the same events applied in the same order give the same database anywhere.
 */
export class AccountsStore {
  private readonly stmt;
  private readonly applyInTransaction: (event: StateEvent) => ApplyResult;

  constructor(
    private readonly db: Database.Database,
    private readonly rooms: RoomsStore,
    private readonly attachments: AttachmentsStore,
    private readonly readers: ReadersStore,
  ) {
    this.stmt = {
      userByKey: db.prepare<[string], UserRow>(
        `SELECT ${USER_COLUMNS} FROM users WHERE name_key = ?`,
      ),
      userCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users'),
      insertUser: db.prepare<[string, string, string | null, number, string]>(
        'INSERT INTO users (username, name_key, password_hash, admin, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      insertSeenUser: db.prepare<[string, string, string]>(
        'INSERT OR IGNORE INTO users (username, name_key, created_at) VALUES (?, ?, ?)',
      ),
      setPassword: db.prepare<[string, number, string | null, string]>(
        'UPDATE users SET password_hash = ?, credentials_reset_at = ?, keep_sid = ? WHERE username = ?',
      ),
      setDisabled: db.prepare<[number, string]>('UPDATE users SET disabled = ? WHERE username = ?'),
      invite: db.prepare<[string], { expires_at: string; revoked_at: string | null }>(
        'SELECT expires_at, revoked_at FROM invites WHERE code = ?',
      ),
      insertInvite: db.prepare<[string, string | null, string, string]>(
        'INSERT INTO invites (code, created_by, created_at, expires_at) VALUES (?, ?, ?, ?)',
      ),
      revokeInvite: db.prepare<[string, string]>(
        'UPDATE invites SET revoked_at = coalesce(revoked_at, ?) WHERE code = ?',
      ),
      insertToken: db.prepare<[string, string, string, string, string]>(
        'INSERT INTO tokens (id, username, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      revokeToken: db.prepare<[string, string, string]>(
        'UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND username = ?',
      ),
      tokenOwner: db.prepare<[string], { username: string }>(
        'SELECT username FROM tokens WHERE id = ?',
      ),
      tokens: db.prepare<[string], TokenInfo>(
        'SELECT id, name, created_at FROM tokens WHERE username = ? AND revoked_at IS NULL ORDER BY created_at, id',
      ),
      endSession: db.prepare<[string, number]>(
        'INSERT INTO ended_sessions (sid, until) VALUES (?, ?) ON CONFLICT (sid) DO UPDATE SET until = max(until, excluded.until)',
      ),
      pruneSessions: db.prepare<[number]>('DELETE FROM ended_sessions WHERE until <= ?'),
      appendFeed: db.prepare<[number, string]>(
        'INSERT INTO access_feed (at, change) VALUES (?, ?)',
      ),
      pruneFeed: db.prepare<[number]>('DELETE FROM access_feed WHERE at < ?'),
      feedAfter: db.prepare<[number], { seq: number; change: string }>(
        'SELECT seq, change FROM access_feed WHERE seq > ? ORDER BY seq',
      ),
      // AUTOINCREMENT keeps the last seq here even when the feed was pruned empty
      feedPosition: db.prepare<[], { seq: number }>(
        "SELECT seq FROM sqlite_sequence WHERE name = 'access_feed'",
      ),
      endedSessions: db.prepare<[number], { sid: string; until: number }>(
        'SELECT sid, until FROM ended_sessions WHERE until > ?',
      ),
      resets: db.prepare<[], { username: string; at: number; keep_sid: string | null }>(
        'SELECT username, credentials_reset_at AS at, keep_sid FROM users WHERE credentials_reset_at IS NOT NULL',
      ),
      revokedTokens: db.prepare<[], { id: string }>(
        'SELECT id FROM tokens WHERE revoked_at IS NOT NULL',
      ),
      disabledUsers: db.prepare<[], { username: string }>(
        'SELECT username FROM users WHERE disabled = 1',
      ),
    };
    this.applyInTransaction = db.transaction((event: StateEvent) => {
      const result = isRoomStateEvent(event)
        ? this.rooms.write(event)
        : isAttachmentEvent(event)
          ? this.attachments.write(event)
          : isReaderEvent(event)
            ? this.readers.write(event)
            : this.write(event);
      if (result.ok) this.appendChange(event);
      return result;
    });
  }

  /**
   * Applies one event, of accounts or of rooms, in one transaction (nothing is written when it
   * is refused), with the access change it makes appended to the feed.
   */
  apply(event: StateEvent): ApplyResult {
    return this.applyInTransaction(event);
  }

  /** The user whose name has this name's key (case and lookalikes folded), if any. */
  user(name: string): StoredUser | undefined {
    const row = this.stmt.userByKey.get(nameKey(name));
    return row && storedUser(row);
  }

  userCount(): number {
    return this.stmt.userCount.get()?.n ?? 0;
  }

  /** Whose token this is (revoked or not), if it exists. */
  tokenOwner(id: string): string | undefined {
    return this.stmt.tokenOwner.get(id)?.username;
  }

  /** The user's tokens that were not revoked, oldest first. */
  tokens(username: string): TokenInfo[] {
    return this.stmt.tokens.all(username);
  }

  /** The access state as of the feed's last position (one read transaction). */
  snapshot(now: number): AccessSnapshot {
    return this.db.transaction(() => ({
      position: this.feedPosition(),
      ended_sessions: this.stmt.endedSessions.all(now),
      resets: this.stmt.resets.all(),
      revoked_tokens: this.stmt.revokedTokens.all().map((row) => row.id),
      disabled_users: this.stmt.disabledUsers.all().map((row) => row.username),
      archived_rooms: this.rooms.archivedIds(),
    }))();
  }

  /** The access changes past `seq`, in order. */
  feedAfter(seq: number): AccessUpdate[] {
    return this.stmt.feedAfter
      .all(seq)
      .map((row) => ({ seq: row.seq, change: JSON.parse(row.change) as AccessChange }));
  }

  feedPosition(): number {
    return this.stmt.feedPosition.get()?.seq ?? 0;
  }

  private write(event: AccountEvent): ApplyResult {
    const s = this.stmt;
    switch (event.type) {
      case 'user_registered':
        return this.register(event);
      case 'user_seen':
        s.insertSeenUser.run(event.username, nameKey(event.username), event.created_at);
        this.readers.addReader(event.username);
        return { ok: true };
      case 'password_changed':
        return changed(
          s.setPassword.run(event.password_hash, event.at, event.keep_sid, event.username),
          'user_not_found',
        );
      case 'user_disabled':
        return changed(s.setDisabled.run(event.disabled ? 1 : 0, event.username), 'user_not_found');
      case 'session_ended':
        s.pruneSessions.run(event.at);
        s.endSession.run(event.sid, event.until);
        return { ok: true };
      case 'token_created':
        if (!this.user(event.username)) return { ok: false, refusal: 'user_not_found' };
        s.insertToken.run(event.id, event.username, event.name, event.token_hash, event.created_at);
        return { ok: true };
      case 'token_revoked':
        return changed(
          s.revokeToken.run(new Date(event.at).toISOString(), event.id, event.username),
          'token_not_found',
        );
      case 'invite_created':
        s.insertInvite.run(event.code, event.created_by, event.created_at, event.expires_at);
        return { ok: true };
      case 'invite_revoked':
        return changed(
          s.revokeInvite.run(new Date(event.at).toISOString(), event.code),
          'invite_not_found',
        );
    }
  }

  /**
   * Why a registration would be refused now, if it would: the policy first (so that a closed
   * server does not tell which names exist), then the name.
   */
  registrationRefusal(event: RegistrationEvent): AccountRefusal | undefined {
    const first = this.userCount() === 0;
    if (!first && event.registration === 'closed') return 'registration_closed';
    if (!first && event.registration === 'invite') {
      if (event.invite === null) return 'invite_required';
      const invite = this.stmt.invite.get(event.invite);
      if (!invite || invite.revoked_at !== null || invite.expires_at <= event.created_at) {
        return 'invalid_invite';
      }
    }
    if (this.user(event.username)) return 'username_taken';
    return undefined;
  }

  /** The first account is the admin. */
  private register(event: RegistrationEvent): ApplyResult {
    const refusal = this.registrationRefusal(event);
    if (refusal) return { ok: false, refusal };
    this.stmt.insertUser.run(
      event.username,
      nameKey(event.username),
      event.password_hash,
      this.userCount() === 0 ? 1 : 0,
      event.created_at,
    );
    this.readers.addReader(event.username);
    return { ok: true };
  }

  private appendChange(event: StateEvent): void {
    const made = accessChangeOf(event);
    if (!made) return;
    this.stmt.pruneFeed.run(made.at - FEED_KEEP_MS);
    this.stmt.appendFeed.run(made.at, JSON.stringify(made.change));
  }
}

function changed(info: Database.RunResult, refusal: AccountRefusal): ApplyResult {
  return info.changes > 0 ? { ok: true } : { ok: false, refusal };
}

function storedUser(row: UserRow): StoredUser {
  return {
    username: row.username,
    admin: row.admin === 1,
    disabled: row.disabled === 1,
    created_at: row.created_at,
    password_hash: row.password_hash,
  };
}
