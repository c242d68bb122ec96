/**
 * Every change to accounts, tokens, invites and sessions is one of these events (and every change
 * to rooms one of domain/rooms.ts's): plain JSON
 * carrying everything its application needs (a password hash is computed before the event), so
 * that applying a sequence of them is deterministic. Embedded mode applies each at once; NATS
 * mode will publish them to the stream and the storage process will apply them in stream order
 * (see SCALE-OUT.md). Times: `*_at` strings are ISO-8601 as the API shows them; `at`, `until`
 * and `iat` numbers are milliseconds since the epoch.
 */
import type { AttachmentEvent } from './attachments.ts';
import type { RegistrationPolicy } from './identity.ts';
import type { RoomStateEvent } from './rooms.ts';
import type { ReaderEvent, ReaderTrigger } from './unread.ts';

export type AccountEvent =
  /**
   * The first registration of a name (after NFKC case folding) in log order wins. The first
   * account is the admin; after it `registration` (the policy when the request was made) and
   * `invite` decide.
   */
  | {
      type: 'user_registered';
      username: string;
      password_hash: string;
      created_at: string;
      invite: string | null;
      registration: RegistrationPolicy;
    }
  /** JWT mode: a user exists from their first valid token (no password). */
  | { type: 'user_seen'; username: string; created_at: string }
  /** Every session and token of the user issued before `at` ends, except session `keep_sid`. */
  | {
      type: 'password_changed';
      username: string;
      password_hash: string;
      at: number;
      keep_sid: string | null;
    }
  /** Logout: the session is refused until `until`, past which no copy of its cookie is valid. */
  | { type: 'session_ended'; sid: string; at: number; until: number }
  | {
      type: 'token_created';
      id: string;
      username: string;
      name: string;
      token_hash: string;
      created_at: string;
    }
  | { type: 'token_revoked'; id: string; username: string; at: number }
  | {
      type: 'invite_created';
      code: string;
      created_by: string | null;
      created_at: string;
      expires_at: string;
    }
  | { type: 'invite_revoked'; code: string; at: number }
  | { type: 'user_disabled'; username: string; disabled: boolean; at: number };

/** Every change to stored state but messages: accounts, rooms, memberships, read markers, uploads. */
export type StateEvent = AccountEvent | RoomStateEvent | ReaderEvent | AttachmentEvent;

/**
 * What a gateway must know of an event to refuse credentials that no longer work, to close the
 * sockets of a member removed from a room, and to refuse messages to an archived room.
 */
export type AccessChange =
  | { type: 'session_ended'; sid: string; until: number }
  | { type: 'credentials_reset'; username: string; at: number; keep_sid: string | null }
  | { type: 'token_revoked'; id: string }
  | { type: 'user_disabled'; username: string; disabled: boolean }
  | { type: 'member_removed'; server_id: number; username: string }
  | { type: 'room_archived'; server_id: number; archived: boolean };

/** An access change and its position in the feed gateways follow. */
export interface AccessUpdate {
  seq: number;
  change: AccessChange;
}

/**
 * What a starting gateway loads before it follows the feed: the state after every change up to
 * `position`; it then applies only changes past `position`, so nothing is missed in between.
 */
export interface AccessSnapshot {
  position: number;
  ended_sessions: Array<{ sid: string; until: number }>;
  resets: Array<{ username: string; at: number; keep_sid: string | null }>;
  revoked_tokens: string[];
  disabled_users: string[];
  archived_rooms: number[];
}

/**
 * The access change an applied event makes, if any, and when (a pure function of the event: a
 * gateway reading the events themselves derives the same changes).
 */
export function accessChangeOf(
  event: StateEvent,
): { at: number; change: AccessChange } | undefined {
  switch (event.type) {
    case 'session_ended':
      return {
        at: event.at,
        change: { type: 'session_ended', sid: event.sid, until: event.until },
      };
    case 'password_changed':
      return {
        at: event.at,
        change: {
          type: 'credentials_reset',
          username: event.username,
          at: event.at,
          keep_sid: event.keep_sid,
        },
      };
    case 'token_revoked':
      return { at: event.at, change: { type: 'token_revoked', id: event.id } };
    case 'user_disabled':
      return {
        at: event.at,
        change: { type: 'user_disabled', username: event.username, disabled: event.disabled },
      };
    case 'member_removed':
      return {
        at: event.at,
        change: { type: 'member_removed', server_id: event.server_id, username: event.username },
      };
    case 'room_updated':
      return event.archived === undefined
        ? undefined
        : {
            at: event.at,
            change: { type: 'room_archived', server_id: event.server_id, archived: event.archived },
          };
    default:
      return undefined;
  }
}

/**
 * Whose unread counts or rooms an applied event may change (a pure function of the event, so that
 * every gateway derives the same from its feed). Names are as the event carries them: the
 * services put stored names in the events gateways act on.
 */
export function readerTriggersOf(event: StateEvent): ReaderTrigger[] {
  switch (event.type) {
    case 'markers_moved':
      return event.markers.map(({ username, server_id }) => ({ username, server_id }));
    case 'notify_set':
      return [{ username: event.username, server_id: event.server_id, notify: event.level }];
    case 'room_left':
    case 'member_removed':
      return [{ username: event.username, server_id: event.server_id, gone: true }];
    case 'room_joined':
    case 'member_added':
      return [{ username: event.username, server_id: event.server_id }];
    case 'room_updated':
      return event.owner === undefined
        ? []
        : [{ username: event.owner, server_id: event.server_id }];
    // a new room's id is the store's: the user's rooms are read again
    case 'dm_opened':
      return event.usernames.map((username) => ({ username }));
    case 'room_created':
      return event.private && event.owner !== null ? [{ username: event.owner }] : [];
    default:
      return [];
  }
}
