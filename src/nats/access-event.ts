/**
 * A state event as the stream holds it (`chat.access`): the AccountEvent or RoomStateEvent
 * itself, as JSON. The
 * history service applies it; every gateway's live feed derives the access change from it. Both
 * check it here first: anyone who may publish on `chat.*` could put anything there.
 */
import type { StateEvent } from '../domain/access-events.ts';
import type { RegistrationPolicy } from '../domain/identity.ts';
import { isNotifyLevel } from '../domain/notify.ts';
import type { ReadMarker } from '../domain/unread.ts';
import {
  arrayOf,
  isBoolean,
  isInteger,
  isRecord,
  isString,
  isUpload,
  nullable,
  objectOf,
  optional,
  parsePayload,
  tupleOf,
} from './guards.ts';
import type { Guard, Parsed } from './guards.ts';

type Kind = StateEvent['type'];
type Of<K extends Kind> = Extract<StateEvent, { type: K }>;

const isType =
  <K extends Kind>(type: K): Guard<K> =>
  (value): value is K =>
    value === type;

const isPolicy = (value: unknown): value is RegistrationPolicy =>
  value === 'invite' || value === 'open' || value === 'closed';

const EVENTS: { [K in Kind]: Guard<Of<K>> } = {
  user_registered: objectOf<Of<'user_registered'>>({
    type: isType('user_registered'),
    username: isString,
    password_hash: isString,
    created_at: isString,
    invite: nullable(isString),
    registration: isPolicy,
  }),
  user_seen: objectOf<Of<'user_seen'>>({
    type: isType('user_seen'),
    username: isString,
    created_at: isString,
  }),
  password_changed: objectOf<Of<'password_changed'>>({
    type: isType('password_changed'),
    username: isString,
    password_hash: isString,
    at: isInteger,
    keep_sid: nullable(isString),
  }),
  session_ended: objectOf<Of<'session_ended'>>({
    type: isType('session_ended'),
    sid: isString,
    at: isInteger,
    until: isInteger,
  }),
  token_created: objectOf<Of<'token_created'>>({
    type: isType('token_created'),
    id: isString,
    username: isString,
    name: isString,
    token_hash: isString,
    created_at: isString,
  }),
  token_revoked: objectOf<Of<'token_revoked'>>({
    type: isType('token_revoked'),
    id: isString,
    username: isString,
    at: isInteger,
  }),
  invite_created: objectOf<Of<'invite_created'>>({
    type: isType('invite_created'),
    code: isString,
    created_by: nullable(isString),
    created_at: isString,
    expires_at: isString,
  }),
  invite_revoked: objectOf<Of<'invite_revoked'>>({
    type: isType('invite_revoked'),
    code: isString,
    at: isInteger,
  }),
  user_disabled: objectOf<Of<'user_disabled'>>({
    type: isType('user_disabled'),
    username: isString,
    disabled: isBoolean,
    at: isInteger,
  }),
  room_created: objectOf<Of<'room_created'>>({
    type: isType('room_created'),
    name: isString,
    private: isBoolean,
    owner: nullable(isString),
    by_admin: isBoolean,
    created_at: isString,
  }),
  room_updated: objectOf<Of<'room_updated'>>({
    type: isType('room_updated'),
    server_id: isInteger,
    by: isString,
    by_admin: isBoolean,
    name: optional(isString),
    archived: optional(isBoolean),
    owner: optional(isString),
    at: isInteger,
  }),
  member_added: objectOf<Of<'member_added'>>({
    type: isType('member_added'),
    server_id: isInteger,
    username: isString,
    by: isString,
    by_admin: isBoolean,
  }),
  member_removed: objectOf<Of<'member_removed'>>({
    type: isType('member_removed'),
    server_id: isInteger,
    username: isString,
    by: isString,
    by_admin: isBoolean,
    at: isInteger,
  }),
  dm_opened: objectOf<Of<'dm_opened'>>({
    type: isType('dm_opened'),
    usernames: tupleOf<[string, string]>(isString, isString),
    created_at: isString,
  }),
  attachment_uploaded: objectOf<Of<'attachment_uploaded'>>({
    type: isType('attachment_uploaded'),
    upload: isUpload,
  }),
  attachments_expired: objectOf<Of<'attachments_expired'>>({
    type: isType('attachments_expired'),
    ids: arrayOf(isString),
  }),
  room_joined: objectOf<Of<'room_joined'>>({
    type: isType('room_joined'),
    server_id: isInteger,
    username: isString,
  }),
  room_left: objectOf<Of<'room_left'>>({
    type: isType('room_left'),
    server_id: isInteger,
    username: isString,
  }),
  markers_moved: objectOf<Of<'markers_moved'>>({
    type: isType('markers_moved'),
    markers: arrayOf(
      objectOf<ReadMarker>({ server_id: isInteger, username: isString, id: isInteger }),
    ),
    join: isBoolean,
  }),
  notify_set: objectOf<Of<'notify_set'>>({
    type: isType('notify_set'),
    server_id: isInteger,
    username: isString,
    level: isNotifyLevel,
  }),
};

export function isStateEvent(value: unknown): value is StateEvent {
  if (!isRecord(value) || typeof value.type !== 'string' || !Object.hasOwn(EVENTS, value.type)) {
    return false;
  }
  return EVENTS[value.type as Kind](value);
}

/** The access event of a stream message on `chat.access`, checked. */
export function readAccessEvent(msg: { data: Uint8Array; seq: number }): Parsed<StateEvent> {
  return parsePayload(msg.data, isStateEvent, `state event ${msg.seq}`);
}
