import type { Attachment } from './attachments.ts';

/** A chat message as it appears everywhere: WebSocket, REST and JSONL transcript. */
export interface Message {
  id: number;
  server_id: number;
  username: string;
  text: string;
  ts: string;
  /** The `seq` of the latest change to it (its id until it is edited or reacted to). */
  seq: number;
  /** Server time of the latest edit. */
  edited_at?: string;
  /** The message of the same room it answers. */
  reply_to?: number;
  /** The replied-to message's author and the start of its current text, made when read. */
  quote?: Quote;
  /** One entry per emoji that has users, in order of first use. */
  reactions?: Reaction[];
  /** 1-10 files, in the order sent (`text` may then be ""). */
  attachments?: Attachment[];
  /** Users mentioned (domain/mentions.ts), sorted by code point, each once; absent: none. */
  mentions?: string[];
  /** Only when `@room` or `@everyone` is used. */
  mention_room?: true;
}

export interface Quote {
  username: string;
  text: string;
}

export interface Reaction {
  emoji: string;
  count: number;
  /** In the order they reacted. */
  users: string[];
}

/** What remains of a deleted message: no text, nothing else (deleted means gone). */
export interface Tombstone {
  id: number;
  server_id: number;
  username: string;
  ts: string;
  seq: number;
  deleted: true;
}

/** The longest quote of a replied-to message, in code points. */
export const QUOTE_MAX_CHARS = 200;

/** What a sender asks to publish; the id and timestamp are the server's. */
export interface MessageDraft {
  serverId: number;
  username: string;
  text: string;
  clientId?: string | undefined;
  /** A message of the same room, not deleted (else `bad_reply`). */
  replyTo?: number | undefined;
  /** Ids of the sender's unsent uploads to this room (else `bad_attachment`). */
  attachments?: string[] | undefined;
}

/** The longest username, in code points (after NFC and trimming: names.ts). */
export const MAX_USERNAME_CHARS = 32;
/** The longest room name, in code points (after NFC and trimming: names.ts). */
export const MAX_ROOM_NAME_CHARS = 64;

// With the u flag a surrogate pair is one code point, so this matches only lone surrogates: text
// that is not Unicode, which SQLite (U+FFFD) and the transcript would each store differently.
const LONE_SURROGATE = /\p{Cs}/u;

/** True unless the text holds a lone surrogate. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

export function codePointLength(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    // a surrogate pair is two UTF-16 units but one code point
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

export type TextProblem = 'malformed' | 'empty' | 'too_long';

export function checkMessageText(text: string, maxChars: number): TextProblem | undefined {
  if (!isWellFormed(text)) return 'malformed';
  if (text.trim().length === 0) return 'empty';
  // Cheap pre-check: a string of at most maxChars UTF-16 units has at most maxChars code points.
  if (text.length > maxChars && codePointLength(text) > maxChars) return 'too_long';
  return undefined;
}

export function isValidClientId(clientId: string): boolean {
  return clientId.length >= 1 && clientId.length <= 64;
}
