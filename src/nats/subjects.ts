/** NATS subjects and JetStream names of chatroom (listed in the README). */

/** The stream that holds every message; its sequence number is the message id. */
export const STREAM = 'CHAT';
export const MESSAGE_SUBJECTS = 'chat.*';
export const messageSubject = (serverId: number): string => `chat.${serverId}`;

/** Durable pull consumer of the history service. */
export const HISTORY_CONSUMER = 'history';

/** Ephemeral room events (presence, typing, gateway heartbeats): core NATS, outside the stream. */
export const EVENTS_SUBJECT = 'chatroom.events';

/**
 * History queries: request/reply to `chatroom.history.{op}`, answered by the queue group. Every
 * answer travels as parts that fit the server's max_payload (see parts.ts).
 */
export const HISTORY_QUEUE = 'history';
export const HISTORY_OPS = [
  'rooms',
  'room_count',
  'room',
  'create_room',
  'messages',
  'replay',
  'status',
] as const;
export type HistoryOp = (typeof HISTORY_OPS)[number];
export const historySubject = (op: HistoryOp): string => `chatroom.history.${op}`;
export const HISTORY_WILDCARD = 'chatroom.history.*';

/** What a message carries in the stream; the id is the stream sequence, not in the payload. */
export interface StreamPayload {
  server_id: number;
  username: string;
  text: string;
  ts: string;
  client_id?: string;
}

export type HistoryReply<T> =
  { ok: true; result: T } | { ok: false; code: string; message: string };
