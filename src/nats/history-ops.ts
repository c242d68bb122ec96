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
import type { AttachmentInfo, NewUpload } from '../domain/attachments.ts';
import type {
  MessagePage,
  Replay,
  ReplayRequest,
  SearchHit,
  SearchPage,
  SearchRequest,
} from '../domain/history.ts';
import type { ChangeRequest, ChangeResult } from '../domain/changes.ts';
import type { Message, MessageDraft, Tombstone } from '../domain/message.ts';
import { ACCOUNT_CHECKS, isNull, noArguments } from './account-ops.ts';
import type { AccountOps, NoArguments } from './account-ops.ts';
import { isChangeRequest } from './change-request.ts';
import { READER_CHECKS } from './reader-ops.ts';
import type { ReaderOps } from './reader-ops.ts';
import type { Room, RoomUpdate, Viewer } from '../domain/rooms.ts';
import {
  arrayOf,
  isAttachmentInfo,
  isBoolean,
  isEntry,
  isInteger,
  isMessage,
  isRecord,
  isRoom,
  isString,
  isUpload,
  nullable,
  objectOf,
  optional,
  parsePayload,
  tupleOf,
} from './guards.ts';
import type { Guard, Parsed } from './guards.ts';

/** What `status` answers: how far persistence is behind the stream. */
export type { NoArguments } from './account-ops.ts';

export interface HistoryStatus {
  /** Messages in the stream not yet persisted. */
  lag: number;
  /** The highest stream sequence persisted. */
  persisted: number;
  /** The history service's database takes writes. */
  writable: boolean;
}

export interface HistoryOps extends AccountOps, ReaderOps {
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
  search: { request: SearchRequest; reply: SearchPage };
  /** An edit, delete or reaction, judged and published by the history service. */
  change: { request: ChangeRequest; reply: ChangeResult };
  /**
   * A message with `reply_to` or `attachments`, whose target and uploads the history service
   * checks before publishing.
   */
  reply: { request: MessageDraft; reply: { id: number; duplicate: boolean } };
  /** An upload whose bytes are in the Object Store: recorded (its room must be visible). */
  record_upload: { request: { upload: NewUpload; viewer: Viewer | null }; reply: AttachmentInfo };
  /**
   * An attachment, if `username` may read it (`viewer`: who asks; `username`: open mode's
   * `?username=`, which only an unsent upload's uploader needs); `null`: no such attachment.
   */
  attachment: {
    request: { id: string; viewer: Viewer | null; username: string | null };
    reply: AttachmentInfo | null;
  };
  status: { request: NoArguments; reply: HistoryStatus };
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

const isViewer = nullable(objectOf<Viewer>({ username: isString, admin: isBoolean }));
const inRoom = objectOf<{ id: number; viewer: Viewer | null }>({ id: isInteger, viewer: isViewer });
const memberOf = objectOf<{ id: number; username: string; viewer: Viewer | null }>({
  id: isInteger,
  username: isString,
  viewer: isViewer,
});

const isSpan = tupleOf<[number, number]>(isInteger, isInteger);
const isHit = objectOf<SearchHit>({
  message: isMessage,
  room: objectOf<{ id: number; name: string | null }>({ id: isInteger, name: nullable(isString) }),
  matches: arrayOf(isSpan),
});

const CHECKS: {
  [Op in HistoryOp]: { request: Guard<HistoryRequest<Op>>; reply: Guard<HistoryReply<Op>> };
} = {
  ...ACCOUNT_CHECKS,
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
  search: {
    request: objectOf<SearchRequest>({
      q: isString,
      viewer: isViewer,
      limit: isInteger,
      before: optional(isInteger),
      maxBytes: optional(isInteger),
    }),
    reply: objectOf<SearchPage>({ results: arrayOf(isHit), more: isBoolean }),
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
      attachments: optional(arrayOf(isString)),
    }),
    reply: objectOf<{ id: number; duplicate: boolean }>({ id: isInteger, duplicate: isBoolean }),
  },
  record_upload: {
    request: objectOf<{ upload: NewUpload; viewer: Viewer | null }>({
      upload: isUpload,
      viewer: isViewer,
    }),
    reply: isAttachmentInfo,
  },
  attachment: {
    request: objectOf<{ id: string; viewer: Viewer | null; username: string | null }>({
      id: isString,
      viewer: isViewer,
      username: nullable(isString),
    }),
    reply: nullable(isAttachmentInfo),
  },
  status: {
    request: noArguments,
    reply: objectOf<HistoryStatus>({ lag: isInteger, persisted: isInteger, writable: isBoolean }),
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
