/**
 * A chat message as the stream holds it. Anyone who may publish on `chat.*` can put anything
 * there, so both readers of the stream (the gateways' live feed and the history service) read a
 * stream message through `readStreamMessage` and skip what does not pass.
 */
import { createHash } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import type { AttachmentInfo } from '../domain/attachments.ts';
import type { ChangeRequest, RoomChange } from '../domain/changes.ts';
import { isChangeRequest } from './change-request.ts';
import {
  arrayOf,
  isAttachmentInfo,
  isBoolean,
  isInteger,
  isRecord,
  isString,
  objectOf,
  optional,
  parsePayload,
} from './guards.ts';
import type { Guard, Parsed } from './guards.ts';
import { messageSubject } from './subjects.ts';

/** What a message carries in the stream; the id is the stream sequence, not in the payload. */
export interface StreamPayload {
  server_id: number;
  username: string;
  text: string;
  ts: string;
  client_id?: string;
  reply_to?: number;
  /** What every gateway shows of the uploads it carries (the history service checked them). */
  attachments?: AttachmentInfo[];
}

const isStreamPayload = objectOf<StreamPayload>({
  server_id: isInteger,
  username: isString,
  text: isString,
  ts: isString,
  client_id: optional(isString),
  reply_to: optional(isInteger),
  attachments: optional(arrayOf(isAttachmentInfo)),
});

/** What every reader of a change needs: the frame, less the seq (the stream sequence) and room. */
export type ChangeFrame =
  | {
      type: 'edit';
      id: number;
      text: string;
      edited_at: string;
      mentions?: string[];
      mention_room?: true;
    }
  | { type: 'delete'; id: number }
  | { type: 'reaction'; id: number; emoji: string; username: string; on: boolean; count: number };

/**
 * An edit, delete or reaction as the stream holds it, published by the history service once it
 * judged it: the request (which the history service applies, at `at`) and the frame gateways
 * send (a reaction's count as it is once applied).
 */
export interface ChangePayload {
  type: 'change';
  request: ChangeRequest;
  at: string;
  frame: ChangeFrame;
}

const isFrame: Guard<ChangeFrame> = (value): value is ChangeFrame => {
  if (!isRecord(value) || !isInteger(value.id)) return false;
  switch (value.type) {
    case 'edit':
      return (
        isString(value.text) &&
        isString(value.edited_at) &&
        optional(arrayOf(isString))(value.mentions) &&
        (value.mention_room === undefined || value.mention_room === true)
      );
    case 'delete':
      return true;
    case 'reaction':
      return (
        isString(value.emoji) &&
        isString(value.username) &&
        isBoolean(value.on) &&
        isInteger(value.count)
      );
    default:
      return false;
  }
};
const isChangePayload = objectOf<ChangePayload>({
  type: (value): value is 'change' => value === 'change',
  request: isChangeRequest,
  at: isString,
  frame: isFrame,
});

/** A stream message of a room: a new message or a change to one. */
export type StreamEntryPayload =
  { kind: 'message'; payload: StreamPayload } | { kind: 'change'; payload: ChangePayload };

/** The room change a stream message of a room carries, checked (parsed once), on its room's subject. */
export function readRoomEntry(
  msg: Pick<JsMsg, 'data' | 'subject' | 'seq'>,
): Parsed<StreamEntryPayload> {
  const isEither = (value: unknown): value is ChangePayload | StreamPayload =>
    isChangePayload(value) || isStreamPayload(value);
  const parsed = parsePayload(msg.data, isEither, `stream message ${msg.seq}`);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  const entry: StreamEntryPayload =
    'type' in value ? { kind: 'change', payload: value } : { kind: 'message', payload: value };
  const room = entry.kind === 'change' ? entry.payload.request.serverId : entry.payload.server_id;
  if (msg.subject !== messageSubject(room)) {
    return { ok: false, reason: `stream message ${msg.seq} is on another room's subject` };
  }
  return { ok: true, value: entry };
}

/** The RoomChange of a change payload at its stream sequence. */
export function roomChangeOf(payload: ChangePayload, seq: number): RoomChange {
  return { ...payload.frame, server_id: payload.request.serverId, seq };
}

/** The payload of a stream message, checked, and on the subject of its own room. */
export function readStreamMessage(
  msg: Pick<JsMsg, 'data' | 'subject' | 'seq'>,
): Parsed<StreamPayload> {
  const parsed = parsePayload(msg.data, isStreamPayload, `stream message ${msg.seq}`);
  if (parsed.ok && msg.subject !== messageSubject(parsed.value.server_id)) {
    return { ok: false, reason: `stream message ${msg.seq} is on another room's subject` };
  }
  return parsed;
}

/**
 * The JetStream message id of an idempotent send: one per (room, username, client_id), and for
 * a change one per (room, username, kind, client_id), so that JetStream keeps one of a resend.
 */
export function dedupeId(draft: {
  serverId: number;
  username: string;
  clientId?: string | undefined;
  kind?: string;
}): string {
  const key =
    draft.kind === undefined
      ? [draft.serverId, draft.username, draft.clientId]
      : [draft.serverId, draft.username, draft.kind, draft.clientId];
  return createHash('sha256').update(JSON.stringify(key)).digest('base64url');
}
