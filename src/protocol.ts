/**
 * The WebSocket wire protocol: what clients send, what the server sends, and the one place where
 * untrusted client frames become typed values or an `error` frame.
 */
import type { Message, Tombstone } from './domain/message.ts';
import { isValidClientId } from './domain/message.ts';
import type { ERRORS, ErrorCode } from './errors.ts';

export type ClientFrame =
  { type: 'message'; text: string; client_id?: string } | { type: 'typing' } | { type: 'ping' };

/** The codes an `error` frame may carry: those of the error catalogue marked `frame: true`. */
export type FrameErrorCode = {
  [Code in ErrorCode]: (typeof ERRORS)[Code]['frame'] extends true ? Code : never;
}[ErrorCode];

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
  | { type: 'ack'; client_id: string | null; id: number; seq: number }
  | { type: 'join' | 'leave'; username: string }
  | { type: 'presence_diff'; joins: string[]; leaves: string[] }
  | { type: 'typing'; username: string }
  | { type: 'error'; code: FrameErrorCode; message: string; client_id?: string }
  | { type: 'pong' };

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
  switch (value.type) {
    case 'message': {
      if (typeof value.text !== 'string') {
        return { ok: false, message: '"text" must be a string', clientId };
      }
      if (value.client_id !== undefined && value.client_id !== null) {
        if (clientId === undefined || !isValidClientId(clientId)) {
          return { ok: false, message: '"client_id" must be a string of 1-64 characters' };
        }
        return { ok: true, frame: { type: 'message', text: value.text, client_id: clientId } };
      }
      return { ok: true, frame: { type: 'message', text: value.text } };
    }
    case 'typing':
      return { ok: true, frame: { type: 'typing' } };
    case 'ping':
      return { ok: true, frame: { type: 'ping' } };
    default:
      return {
        ok: false,
        message:
          typeof value.type === 'string'
            ? `unknown frame type "${value.type}"`
            : 'a frame needs a string "type"',
        clientId,
      };
  }
}

export function serialize(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

export function messageFrame(message: Message): string {
  return serialize({ type: 'message', ...message });
}
