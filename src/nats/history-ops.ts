/**
 * Every history operation over NATS, in one place: what it is asked and what it answers, and the
 * checks of both. A gateway asks `chatroom.history.{op}` (see subjects.ts) with the request's
 * JSON; the history service answers a `HistoryAnswer` of the reply. Each side checks what it
 * receives here, so neither trusts the other's version.
 *
 * Adding an operation: one entry in `HistoryOps` and one in `CHECKS` (the compiler asks for it),
 * then its handler in the history service (the compiler asks for that too) and the client's
 * method that calls it.
 */
import type { AccessSnapshot } from '../domain/access-events.ts';
import type {
  LoginRequest,
  NewToken,
  PasswordChange,
  RegisterRequest,
} from '../domain/account-requests.ts';
import type { MessagePage, Replay, ReplayRequest } from '../domain/history.ts';
import type { Invite, RegistrationPolicy, TokenInfo, User } from '../domain/identity.ts';
import type { ChangeRequest, ChangeResult } from '../domain/changes.ts';
import type { Message, MessageDraft, Tombstone } from '../domain/message.ts';
import { isChangeRequest } from './change-request.ts';
import { READER_CHECKS } from './reader-ops.ts';
import type { ReaderOps } from './reader-ops.ts';
import type { Room, RoomUpdate, Viewer } from '../domain/rooms.ts';
import {
  arrayOf,
  isBoolean,
  isEntry,
  isInteger,
  isMessage,
  isRecord,
  isRoom,
  isString,
  nullable,
  objectOf,
  optional,
  parsePayload,
} from './guards.ts';
import type { Guard, Parsed } from './guards.ts';

/** What `status` answers: how far persistence is behind the stream. */
export interface HistoryStatus {
  /** Messages in the stream not yet persisted. */
  lag: number;
  /** The highest stream sequence persisted. */
  persisted: number;
  /** The history service's database takes writes. */
  writable: boolean;
}

/** The request of an operation that needs no arguments: `{}`. */
export type NoArguments = Record<string, never>;

export interface HistoryOps extends ReaderOps {
  // rooms: `viewer` is who asks (null: open mode's anonymous caller); with `reader`, each room
  // has that user's counts, marker and level
  rooms: {
    request: { viewer: Viewer | null; archived: boolean; reader?: string };
    reply: Room[];
  };
  room_count: { request: NoArguments; reply: number };
  /** `null`: no such room, or one the viewer may not see. */
  room: { request: { id: number; viewer: Viewer | null }; reply: Room | null };
  create_room: {
    request: { name: string; private: boolean; viewer: Viewer | null };
    reply: Room;
  };
  members: { request: { id: number; viewer: Viewer | null }; reply: string[] };
  add_member: {
    request: { id: number; username: string; viewer: Viewer | null };
    reply: { members: string[]; existed: boolean };
  };
  remove_member: {
    request: { id: number; username: string; viewer: Viewer | null };
    reply: null;
  };
  update_room: {
    request: { id: number; update: RoomUpdate; viewer: Viewer | null };
    reply: Room;
  };
  open_dm: {
    request: { username: string; viewer: Viewer | null };
    reply: { room: Room; existed: boolean };
  };
  messages: { request: MessagePage; reply: Array<Message | Tombstone> };
  /** `null`: no such message in the room, or deleted. */
  message: { request: { serverId: number; id: number }; reply: Message | null };
  replay: { request: ReplayRequest; reply: Replay };
  /** An edit, delete or reaction, judged and published by the history service. */
  change: { request: ChangeRequest; reply: ChangeResult };
  /** A message with `reply_to`, whose target the history service checks before publishing. */
  reply: { request: MessageDraft; reply: { id: number; duplicate: boolean } };
  status: { request: NoArguments; reply: HistoryStatus };
  // accounts (the AccountsClient port): a password travels only to the history service
  register: { request: RegisterRequest; reply: User };
  login: { request: LoginRequest; reply: User };
  change_password: { request: PasswordChange; reply: number };
  end_session: { request: { sid: string; until: number }; reply: null };
  create_token: { request: NewToken; reply: TokenInfo };
  list_tokens: { request: { username: string }; reply: TokenInfo[] };
  revoke_token: { request: { username: string; id: string }; reply: null };
  create_invite: { request: { by: string }; reply: Invite };
  revoke_invite: { request: { by: string; code: string }; reply: null };
  set_disabled: { request: { by: string; username: string; disabled: boolean }; reply: User };
  /** `null`: no such user. */
  user: { request: { username: string }; reply: User | null };
  record_user: { request: { username: string }; reply: null };
  /** The access state as of `position`, which is at least `after` (stream sequences). */
  access_snapshot: { request: { after: number }; reply: AccessSnapshot };
  has_users: { request: NoArguments; reply: boolean };
  // the operator commands, run beside a NATS-mode deployment (`chatroom admin …`)
  operator_invite: { request: NoArguments; reply: Invite };
  reset_password: { request: { username: string; password: string }; reply: User };
}

export type HistoryOp = keyof HistoryOps;
export type HistoryRequest<Op extends HistoryOp> = HistoryOps[Op]['request'];
export type HistoryReply<Op extends HistoryOp> = HistoryOps[Op]['reply'];

/**
 * What the history service answers to every request; a failure's code is an `ErrorCode`
 * (`rate_limited` says after how many seconds to retry).
 */
export type HistoryAnswer<T> =
  { ok: true; result: T } | { ok: false; code: string; message: string; retry_after?: number };

/** What answers each operation (the history service's table). */
export type HistoryHandlers = {
  [Op in HistoryOp]: (request: HistoryRequest<Op>) => HistoryReply<Op> | Promise<HistoryReply<Op>>;
};

const noArguments = (value: unknown): value is NoArguments => isRecord(value);
const isNull = (value: unknown): value is null => value === null;
const isPolicy = (value: unknown): value is RegistrationPolicy =>
  value === 'invite' || value === 'open' || value === 'closed';

const isUser = objectOf<User>({
  username: isString,
  admin: isBoolean,
  disabled: isBoolean,
  created_at: isString,
});
const isInvite = objectOf<Invite>({ code: isString, expires_at: isString });
const isTokenInfo = objectOf<TokenInfo>({ id: isString, name: isString, created_at: isString });
const isSnapshot = objectOf<AccessSnapshot>({
  position: isInteger,
  ended_sessions: arrayOf(
    objectOf<{ sid: string; until: number }>({ sid: isString, until: isInteger }),
  ),
  resets: arrayOf(
    objectOf<{ username: string; at: number; keep_sid: string | null }>({
      username: isString,
      at: isInteger,
      keep_sid: nullable(isString),
    }),
  ),
  revoked_tokens: arrayOf(isString),
  disabled_users: arrayOf(isString),
  archived_rooms: arrayOf(isInteger),
});
const byUsername = objectOf<{ username: string }>({ username: isString });
const isViewer = nullable(objectOf<Viewer>({ username: isString, admin: isBoolean }));
const inRoom = objectOf<{ id: number; viewer: Viewer | null }>({ id: isInteger, viewer: isViewer });
const memberOf = objectOf<{ id: number; username: string; viewer: Viewer | null }>({
  id: isInteger,
  username: isString,
  viewer: isViewer,
});

const CHECKS: {
  [Op in HistoryOp]: { request: Guard<HistoryRequest<Op>>; reply: Guard<HistoryReply<Op>> };
} = {
  rooms: {
    request: objectOf<{ viewer: Viewer | null; archived: boolean; reader?: string }>({
      viewer: isViewer,
      archived: isBoolean,
      reader: optional(isString),
    }),
    reply: arrayOf(isRoom),
  },
  room_count: { request: noArguments, reply: isInteger },
  room: { request: inRoom, reply: nullable(isRoom) },
  create_room: {
    request: objectOf<{ name: string; private: boolean; viewer: Viewer | null }>({
      name: isString,
      private: isBoolean,
      viewer: isViewer,
    }),
    reply: isRoom,
  },
  members: { request: inRoom, reply: arrayOf(isString) },
  add_member: {
    request: memberOf,
    reply: objectOf<{ members: string[]; existed: boolean }>({
      members: arrayOf(isString),
      existed: isBoolean,
    }),
  },
  remove_member: { request: memberOf, reply: isNull },
  update_room: {
    request: objectOf<{ id: number; update: RoomUpdate; viewer: Viewer | null }>({
      id: isInteger,
      update: objectOf<RoomUpdate>({
        name: optional(isString),
        archived: optional(isBoolean),
        owner: optional(isString),
      }),
      viewer: isViewer,
    }),
    reply: isRoom,
  },
  open_dm: {
    request: objectOf<{ username: string; viewer: Viewer | null }>({
      username: isString,
      viewer: isViewer,
    }),
    reply: objectOf<{ room: Room; existed: boolean }>({ room: isRoom, existed: isBoolean }),
  },
  messages: {
    request: objectOf<MessagePage>({
      serverId: isInteger,
      limit: isInteger,
      before: optional(isInteger),
      after: optional(isInteger),
      changedAfter: optional(isInteger),
      maxBytes: optional(isInteger),
    }),
    reply: arrayOf(isEntry),
  },
  message: {
    request: objectOf<{ serverId: number; id: number }>({ serverId: isInteger, id: isInteger }),
    reply: nullable(isMessage),
  },
  replay: {
    request: objectOf<ReplayRequest>({
      serverId: isInteger,
      since: optional(isInteger),
      replayCount: isInteger,
      sinceLimit: isInteger,
      maxBytes: isInteger,
    }),
    reply: objectOf<Replay>({
      messages: arrayOf(isMessage),
      updates: arrayOf(isEntry),
      lastId: isInteger,
      lastSeq: isInteger,
      more: isBoolean,
      moreUpdates: isBoolean,
      reset: isBoolean,
    }),
  },
  change: {
    request: isChangeRequest,
    reply: objectOf<ChangeResult>({ id: isInteger, seq: isInteger, duplicate: isBoolean }),
  },
  reply: {
    request: objectOf<MessageDraft>({
      serverId: isInteger,
      username: isString,
      text: isString,
      clientId: optional(isString),
      replyTo: optional(isInteger),
    }),
    reply: objectOf<{ id: number; duplicate: boolean }>({ id: isInteger, duplicate: isBoolean }),
  },
  status: {
    request: noArguments,
    reply: objectOf<HistoryStatus>({ lag: isInteger, persisted: isInteger, writable: isBoolean }),
  },
  register: {
    request: objectOf<RegisterRequest>({
      username: isString,
      password: isString,
      invite: optional(isString),
      registration: isPolicy,
    }),
    reply: isUser,
  },
  login: {
    request: objectOf<LoginRequest>({ username: isString, password: isString, address: isString }),
    reply: isUser,
  },
  change_password: {
    request: objectOf<PasswordChange>({
      username: isString,
      current: isString,
      next: isString,
      keepSid: nullable(isString),
    }),
    reply: isInteger,
  },
  end_session: {
    request: objectOf<{ sid: string; until: number }>({ sid: isString, until: isInteger }),
    reply: isNull,
  },
  create_token: {
    request: objectOf<NewToken>({
      id: isString,
      username: isString,
      name: isString,
      tokenHash: isString,
      createdAt: isString,
    }),
    reply: isTokenInfo,
  },
  list_tokens: { request: byUsername, reply: arrayOf(isTokenInfo) },
  revoke_token: {
    request: objectOf<{ username: string; id: string }>({ username: isString, id: isString }),
    reply: isNull,
  },
  create_invite: { request: objectOf<{ by: string }>({ by: isString }), reply: isInvite },
  revoke_invite: {
    request: objectOf<{ by: string; code: string }>({ by: isString, code: isString }),
    reply: isNull,
  },
  set_disabled: {
    request: objectOf<{ by: string; username: string; disabled: boolean }>({
      by: isString,
      username: isString,
      disabled: isBoolean,
    }),
    reply: isUser,
  },
  user: { request: byUsername, reply: nullable(isUser) },
  record_user: { request: byUsername, reply: isNull },
  access_snapshot: {
    request: objectOf<{ after: number }>({ after: isInteger }),
    reply: isSnapshot,
  },
  has_users: { request: noArguments, reply: isBoolean },
  operator_invite: { request: noArguments, reply: isInvite },
  reset_password: {
    request: objectOf<{ username: string; password: string }>({
      username: isString,
      password: isString,
    }),
    reply: isUser,
  },
  ...READER_CHECKS,
};

export function isHistoryOp(name: string): name is HistoryOp {
  return Object.hasOwn(CHECKS, name);
}

/** A request as the history service receives it. */
export function parseHistoryRequest<Op extends HistoryOp>(
  op: Op,
  data: Uint8Array,
): Parsed<HistoryRequest<Op>> {
  return parsePayload(data, CHECKS[op].request, `a "${op}" request`);
}

/** An answer as the asker receives it: a failure, or a result that passes the reply's checks. */
export function parseHistoryAnswer<Op extends HistoryOp>(
  op: Op,
  data: Uint8Array,
): Parsed<HistoryAnswer<HistoryReply<Op>>> {
  const reply = CHECKS[op].reply;
  const isAnswer = (value: unknown): value is HistoryAnswer<HistoryReply<Op>> =>
    isRecord(value) &&
    (value.ok === true
      ? reply(value.result)
      : value.ok === false &&
        isString(value.code) &&
        isString(value.message) &&
        optional(isInteger)(value.retry_after));
  return parsePayload(data, isAnswer, `the answer to "${op}"`);
}
