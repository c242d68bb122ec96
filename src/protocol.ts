/**
 * The WebSocket wire protocol: what clients send, what the server sends, and the one place where
 * untrusted client frames become typed values or an `error` frame.
 */
import type { RoomChange } from './domain/changes.ts';
import type { UnreadCounts } from './domain/unread.ts';
import type { Message, Tombstone } from './domain/message.ts';
import { isValidClientId } from './domain/message.ts';
import { ERRORS } from './errors.ts';
import type { ErrorCode } from './errors.ts';

export type ClientFrame =
  | { type: 'message'; text: string; client_id?: string; reply_to?: number; attachments?: string[] }
  | { type: 'edit'; id: number; text: string; client_id?: string }
  | { type: 'delete'; id: number; client_id?: string }
  | { type: 'react'; id: number; emoji: string; on: boolean; client_id?: string }
  | { type: 'typing' }
  | { type: 'ping' }
  /** Moves the user's read marker of this socket's room (outside RATE_LIMIT). */
  | { type: 'read'; id: number };

/** The frames that change a room (each takes a seq, and RATE_LIMIT counts them). */
export type ChangeFrame = Extract<ClientFrame, { type: 'edit' | 'delete' | 'react' }>;

/** The codes an `error` frame may carry: those of the error catalogue marked `frame: true`. */
export type FrameErrorCode = {
  [Code in ErrorCode]: (typeof ERRORS)[Code]['frame'] extends true ? Code : never;
}[ErrorCode];

/** Whether an error code may be sent in an `error` frame. */
export function isFrameCode(code: ErrorCode): code is FrameErrorCode {
  return ERRORS[code].frame;
}

export type ServerFrame =
  | {
      type: 'history';
      messages: Message[];
      /** With `since`: older messages that changed after it, tombstones too, in seq order. */
      updates: Array<Message | Tombstone>;
      last_id: number;
      last_seq: number;
      more?: true;
      more_updates?: true;
      reset?: true;
    }
  /** The first PRESENCE_PAGE_LIMIT names, sorted; `more` when `total` is larger. */
  | { type: 'presence'; users: string[]; total: number; more?: true }
  | ({ type: 'message' } & Message)
  | {
      type: 'edit';
      id: number;
      seq: number;
      text: string;
      edited_at: string;
      mentions?: string[];
      mention_room?: true;
    }
  | { type: 'delete'; id: number; seq: number }
  | {
      type: 'reaction';
      id: number;
      seq: number;
      emoji: string;
      username: string;
      on: boolean;
      count: number;
    }
  /** `id`: the message (sent, or changed); `seq`: the change's (a no-op reaction: the message's). */
  | { type: 'ack'; client_id: string | null; id: number; seq: number }
  | { type: 'join' | 'leave'; username: string }
  | { type: 'presence_diff'; joins: string[]; leaves: string[] }
  | { type: 'typing'; username: string }
  | { type: 'error'; code: FrameErrorCode; message: string; client_id?: string }
  | { type: 'pong' }
  /** The user's counts in one of their rooms changed (any room, to every socket of theirs). */
  | ({ type: 'unread' } & UnreadCounts)
  /** A new message asks for the user's attention: it mentions them, is a DM, or their level is all. */
  | { type: 'mention'; server_id: number; message: Message; reason: MentionReason };

/** Why a `mention` frame was sent. */
export type MentionReason = 'mention' | 'dm' | 'all';

/**
 * WebSocket close codes of the contract (the README lists each with its meaning, and a test
 * checks that it does).
 */
export const CLOSE = {
  goingAway: 1001,
  tooBig: 1009,
  tryAgainLater: 1013,
  badRequest: 4400,
  /** Missing, invalid or expired credentials, or the session ended. */
  unauthenticated: 4401,
  /** No longer allowed: the user was disabled (later: removed from a private room). */
  forbidden: 4403,
  unknownRoom: 4404,
  tooSlow: 4408,
} as const;

export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/**
 * `GET /api/config`: the limits a client needs to say "too long" before the server does. Nothing
 * secret; the page and the client library read it at start.
 */
export interface ClientConfig {
  /** MAX_MESSAGE_CHARS: the longest message text, in code points. */
  max_message_chars: number;
  max_username_chars: number;
  max_room_name_chars: number;
  /** HISTORY_REPLAY: messages replayed to a client joining without `since`. */
  history_replay: number;
  /** RATE_LIMIT: `message` frames per second per connection (a bucket of twice that); 0: none. */
  rate_limit: number;
}

/** The largest `history` frame, in bytes of JSON (the contract's 1 MiB). */
export const HISTORY_FRAME_MAX_BYTES = 1024 * 1024;
/** The largest REST page of messages, in bytes of JSON (the contract's 4 MiB). */
export const REST_PAGE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * What a `history` frame's `messages` and `updates` arrays may take together: the frame less its
 * largest envelope (the longest positions, every flag), so that the whole frame stays within
 * HISTORY_FRAME_MAX_BYTES.
 */
export const HISTORY_MESSAGES_MAX_BYTES =
  HISTORY_FRAME_MAX_BYTES -
  (Buffer.byteLength(
    serialize({
      type: 'history',
      messages: [],
      updates: [],
      last_id: Number.MAX_SAFE_INTEGER,
      last_seq: Number.MAX_SAFE_INTEGER,
      more: true,
      more_updates: true,
      reset: true,
    }),
  ) -
    '[]'.length);

export type ParseResult =
  { ok: true; frame: ClientFrame } | { ok: false; message: string; clientId?: string };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Turns one text frame into a client frame. Text that is not a JSON object is a message. */
export function parseClientFrame(raw: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: true, frame: { type: 'message', text: raw } };
  }
  if (!isPlainObject(value)) return { ok: true, frame: { type: 'message', text: raw } };

  const clientId = typeof value.client_id === 'string' ? value.client_id : undefined;
  const refuse = (message: string): ParseResult => ({ ok: false, message, clientId });
  const changes = value.type === 'message' || value.type === 'edit' || value.type === 'delete';
  if (
    (changes || value.type === 'react') &&
    value.client_id !== undefined &&
    value.client_id !== null
  ) {
    if (clientId === undefined || !isValidClientId(clientId)) {
      return { ok: false, message: '"client_id" must be a string of 1-64 characters' };
    }
  }
  const withClientId = clientId === undefined ? {} : { client_id: clientId };
  switch (value.type) {
    case 'message': {
      if (typeof value.text !== 'string') return refuse('"text" must be a string');
      if (value.reply_to !== undefined && value.reply_to !== null && !isId(value.reply_to)) {
        return refuse('"reply_to" must be a message id (a positive integer)');
      }
      const replyTo = isId(value.reply_to) ? { reply_to: value.reply_to } : {};
      const { attachments } = value;
      if (attachments !== undefined && attachments !== null && !isStringArray(attachments)) {
        return refuse('"attachments" must be an array of attachment ids (strings)');
      }
      const withAttachments = isStringArray(attachments) ? { attachments } : {};
      return {
        ok: true,
        frame: {
          type: 'message',
          text: value.text,
          ...withClientId,
          ...replyTo,
          ...withAttachments,
        },
      };
    }
    case 'edit':
      if (!isId(value.id)) return refuse('"id" must be a message id (a positive integer)');
      if (typeof value.text !== 'string') return refuse('"text" must be a string');
      return { ok: true, frame: { type: 'edit', id: value.id, text: value.text, ...withClientId } };
    case 'delete':
      if (!isId(value.id)) return refuse('"id" must be a message id (a positive integer)');
      return { ok: true, frame: { type: 'delete', id: value.id, ...withClientId } };
    case 'react':
      if (!isId(value.id)) return refuse('"id" must be a message id (a positive integer)');
      if (typeof value.emoji !== 'string') return refuse('"emoji" must be a string');
      if (typeof value.on !== 'boolean') return refuse('"on" must be true or false');
      return {
        ok: true,
        frame: { type: 'react', id: value.id, emoji: value.emoji, on: value.on, ...withClientId },
      };
    case 'typing':
      return { ok: true, frame: { type: 'typing' } };
    case 'ping':
      return { ok: true, frame: { type: 'ping' } };
    case 'read':
      if (!Number.isSafeInteger(value.id) || (value.id as number) < 0) {
        return refuse('"id" must be a message id (an integer of at least 0)');
      }
      return { ok: true, frame: { type: 'read', id: value.id as number } };
    default:
      return refuse(
        typeof value.type === 'string'
          ? `unknown frame type "${value.type}"`
          : 'a frame needs a string "type"',
      );
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** A message id as a client names one: a positive safe integer (a JSON number, never text). */
function isId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

export function serialize(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

export function messageFrame(message: Message): string {
  return serialize({ type: 'message', ...message });
}

/** The frame of a live room change, as every client of the room gets it. */
export function changeFrame(change: RoomChange): string {
  switch (change.type) {
    case 'message':
      return messageFrame(change.message);
    case 'edit':
      return serialize({
        type: 'edit',
        id: change.id,
        seq: change.seq,
        text: change.text,
        edited_at: change.edited_at,
        ...(change.mentions && { mentions: change.mentions }),
        ...(change.mention_room && { mention_room: change.mention_room }),
      });
    case 'delete':
      return serialize({ type: 'delete', id: change.id, seq: change.seq });
    case 'reaction':
      return serialize({
        type: 'reaction',
        id: change.id,
        seq: change.seq,
        emoji: change.emoji,
        username: change.username,
        on: change.on,
        count: change.count,
      });
  }
}
