/**
 * Checks of what arrives over NATS. Another process sent it: a history service or gateway of
 * another version, or anything else with access to the server. So a payload is checked at the
 * edge, once, and only then used as a typed value; one that does not pass is dropped or answered
 * with an error, never trusted. Small guards that compose, as `protocol.ts` checks client frames.
 */
import type { Attachment, AttachmentInfo, NewUpload } from '../domain/attachments.ts';
import type { Message, Quote, Reaction, Tombstone } from '../domain/message.ts';
import type { Room } from '../domain/rooms.ts';
import { isNotifyLevel } from '../domain/notify.ts';

export type Guard<T> = (value: unknown) => value is T;

/** What a payload turned out to be: the typed value, or why it is not one (for the log). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A payload that did not pass its checks (logged and counted where it arrived). */
export class MalformedPayloadError extends Error {
  override name = 'MalformedPayloadError';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const isInteger = (value: unknown): value is number => Number.isSafeInteger(value);
export const isString = (value: unknown): value is string => typeof value === 'string';
export const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean';

export function optional<T>(guard: Guard<T>): Guard<T | undefined> {
  return (value): value is T | undefined => value === undefined || guard(value);
}

export function nullable<T>(guard: Guard<T>): Guard<T | null> {
  return (value): value is T | null => value === null || guard(value);
}

export function arrayOf<T>(guard: Guard<T>): Guard<T[]> {
  return (value): value is T[] => Array.isArray(value) && value.every(guard);
}

/** A fixed-length array, element by element (`[serverId, usernames]`). */
export function tupleOf<T extends unknown[]>(...guards: { [I in keyof T]: Guard<T[I]> }): Guard<T> {
  return (value): value is T =>
    Array.isArray(value) &&
    value.length === guards.length &&
    guards.every((guard, i) => guard(value[i]));
}

/**
 * An object with a guard per field: the compiler wants one for every field of `T` (optional
 * fields too), so a field added to a type cannot go unchecked. Other fields are let through.
 */
export function objectOf<T>(fields: { [K in keyof T]-?: Guard<T[K]> }): Guard<T> {
  const entries = Object.entries<Guard<unknown>>(fields);
  return (value): value is T =>
    isRecord(value) && entries.every(([name, guard]) => guard(value[name]));
}

const attachmentFields = {
  id: isString,
  name: isString,
  type: isString,
  size: isInteger,
  width: optional(isInteger),
  height: optional(isInteger),
};
export const isAttachmentInfo: Guard<AttachmentInfo> = objectOf<AttachmentInfo>(attachmentFields);
const isAttachment: Guard<Attachment> = objectOf<Attachment>({
  ...attachmentFields,
  url: isString,
});
export const isUpload: Guard<NewUpload> = objectOf<NewUpload>({
  ...attachmentFields,
  server_id: isInteger,
  uploader: isString,
  created_at: isString,
});

export const isMessage: Guard<Message> = objectOf<Message>({
  id: isInteger,
  server_id: isInteger,
  username: isString,
  text: isString,
  ts: isString,
  seq: isInteger,
  edited_at: optional(isString),
  reply_to: optional(isInteger),
  quote: optional(objectOf<Quote>({ username: isString, text: isString })),
  reactions: optional(
    arrayOf(objectOf<Reaction>({ emoji: isString, count: isInteger, users: arrayOf(isString) })),
  ),
  attachments: optional(arrayOf(isAttachment)),
  mentions: optional(arrayOf(isString)),
  mention_room: optional(isTrue),
});

function isTrue(value: unknown): value is true {
  return value === true;
}

export const isTombstone: Guard<Tombstone> = objectOf<Tombstone>({
  id: isInteger,
  server_id: isInteger,
  username: isString,
  ts: isString,
  seq: isInteger,
  deleted: isTrue,
});

/** A message or, once deleted, its tombstone. */
export const isEntry = (value: unknown): value is Message | Tombstone =>
  isRecord(value) && value.deleted === true ? isTombstone(value) : isMessage(value);

export const isRoom: Guard<Room> = objectOf<Room>({
  id: isInteger,
  name: nullable(isString),
  created_at: isString,
  private: isBoolean,
  dm: isBoolean,
  archived: isBoolean,
  owner: nullable(isString),
  members: optional(arrayOf(isString)),
  unread: optional(isInteger),
  mentions: optional(isInteger),
  last_read: optional(isInteger),
  notify: optional(isNotifyLevel),
});

const decoder = new TextDecoder();

/** Parses the JSON of a NATS payload and checks it; `what` names it in the reason. */
export function parsePayload<T>(data: Uint8Array, guard: Guard<T>, what: string): Parsed<T> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return { ok: false, reason: `${what} is not JSON` };
  }
  return guard(value) ? { ok: true, value } : { ok: false, reason: `${what} is malformed` };
}
