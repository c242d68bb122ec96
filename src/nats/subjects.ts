/** NATS subjects and JetStream names of chatroom (listed in the README). */
import type { HistoryOp } from './history-ops.ts';

/** The stream that holds every message; its sequence number is the message id. */
export const STREAM = 'CHAT';
export const MESSAGE_SUBJECTS = 'chat.*';
export const messageSubject = (serverId: number): string => `chat.${serverId}`;
/**
 * Access events (registrations, logouts, password changes, tokens, invites, disabled users) in
 * the same stream, so that storage applies them in one order with the messages and every
 * gateway's live feed (`chat.*`) reads them. Not a room: rooms see a gap in the ids, no more.
 */
export const ACCESS_SUBJECT = 'chat.access';
const ROOM_OF = /^chat\.(\d+)$/;
/** The room of a message subject; undefined for any other subject. */
export function roomOfSubject(subject: string): number | undefined {
  const room = ROOM_OF.exec(subject);
  return room ? Number(room[1]) : undefined;
}

/** Durable pull consumer of the history service. */
export const HISTORY_CONSUMER = 'history';

/** Ephemeral room events (presence, typing, gateway heartbeats): core NATS, outside the stream. */
export const EVENTS_SUBJECT = 'chatroom.events';

/**
 * History queries: request/reply to `chatroom.history.{op}` (the operations are in
 * history-ops.ts), answered by the queue group. Every answer travels as parts that fit the
 * server's max_payload (see parts.ts).
 */
export const HISTORY_QUEUE = 'history';
export const historySubject = (op: HistoryOp): string => `chatroom.history.${op}`;
export const HISTORY_WILDCARD = 'chatroom.history.*';
/** The operation a history request asks for: the last token of its subject. */
export const historyOpOf = (subject: string): string => subject.slice(subject.lastIndexOf('.') + 1);
