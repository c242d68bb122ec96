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
import type { MessagePage, Replay, ReplayRequest } from '../domain/history.ts';
import type { Message, Room } from '../domain/message.ts';
import {
  arrayOf,
  isBoolean,
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

export interface HistoryOps {
  rooms: { request: NoArguments; reply: Room[] };
  room_count: { request: NoArguments; reply: number };
  /** `null`: no such room. */
  room: { request: { id: number }; reply: Room | null };
  create_room: { request: { name: string }; reply: Room };
  messages: { request: MessagePage; reply: Message[] };
  replay: { request: ReplayRequest; reply: Replay };
  status: { request: NoArguments; reply: HistoryStatus };
}

export type HistoryOp = keyof HistoryOps;
export type HistoryRequest<Op extends HistoryOp> = HistoryOps[Op]['request'];
export type HistoryReply<Op extends HistoryOp> = HistoryOps[Op]['reply'];

/** What the history service answers to every request; a failure's code is an `ErrorCode`. */
export type HistoryAnswer<T> =
  { ok: true; result: T } | { ok: false; code: string; message: string };

/** What answers each operation (the history service's table). */
export type HistoryHandlers = {
  [Op in HistoryOp]: (request: HistoryRequest<Op>) => HistoryReply<Op> | Promise<HistoryReply<Op>>;
};

const noArguments = (value: unknown): value is NoArguments => isRecord(value);

const CHECKS: {
  [Op in HistoryOp]: { request: Guard<HistoryRequest<Op>>; reply: Guard<HistoryReply<Op>> };
} = {
  rooms: { request: noArguments, reply: arrayOf(isRoom) },
  room_count: { request: noArguments, reply: isInteger },
  room: { request: objectOf<{ id: number }>({ id: isInteger }), reply: nullable(isRoom) },
  create_room: { request: objectOf<{ name: string }>({ name: isString }), reply: isRoom },
  messages: {
    request: objectOf<MessagePage>({
      serverId: isInteger,
      limit: isInteger,
      before: optional(isInteger),
      after: optional(isInteger),
      maxBytes: optional(isInteger),
    }),
    reply: arrayOf(isMessage),
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
      lastId: isInteger,
      more: isBoolean,
      reset: isBoolean,
    }),
  },
  status: {
    request: noArguments,
    reply: objectOf<HistoryStatus>({ lag: isInteger, persisted: isInteger, writable: isBoolean }),
  },
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
      : value.ok === false && isString(value.code) && isString(value.message));
  return parsePayload(data, isAnswer, `the answer to "${op}"`);
}
