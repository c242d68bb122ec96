/**
 * Read markers, unread counts and notification levels (contract, "Mentions, read markers, unread
 * counts"). A user's read marker `last_read` in a room is a message id: it starts at the room's
 * newest id when the user first could see the room (0 for rooms made later, new DMs) and only
 * moves forward. `unread` counts the messages after it that are not deleted and not the user's
 * own; `mentions` those of them that mention the user or the room, or are in a DM. Both stop at
 * COUNT_CAP.
 *
 * A user's rooms (what counts and what frames cover): the public rooms they joined (by opening
 * one, or `PUT …/read`, until `DELETE …/membership`), the private rooms they are a member of,
 * and their DMs.
 */
import type { NotifyLevel } from './notify.ts';
import type { Viewer } from './rooms.ts';

/** Counts stop here: 1000 means 1000 or more. */
export const COUNT_CAP = 1000;

/** A user's counts in one room, as the `unread` frame and `PUT …/read` answer them. */
export interface UnreadCounts {
  server_id: number;
  unread: number;
  mentions: number;
  last_read: number;
}

/** One of a user's rooms as a gateway keeps it: the counts, the level, and whether it is a DM. */
export interface RoomUnread extends UnreadCounts {
  notify: NotifyLevel;
  dm: boolean;
}

/** A read marker to move (forward only). */
export interface ReadMarker {
  server_id: number;
  username: string;
  id: number;
}

/**
 * The changes to markers, levels and joined public rooms: state events, applied in order with the
 * others (embedded mode: at once; NATS mode: in stream order).
 */
export type ReaderEvent =
  /** Opening a public room joins it (the user is made known first in open mode). */
  | { type: 'room_joined'; server_id: number; username: string }
  /** `DELETE …/membership`: the public room stays readable but is no longer counted. */
  | { type: 'room_left'; server_id: number; username: string }
  /** Markers moved (`read` frames of a second, or one `PUT …/read`, which also joins). */
  | { type: 'markers_moved'; markers: ReadMarker[]; join: boolean }
  | { type: 'notify_set'; server_id: number; username: string; level: NotifyLevel };

export const READER_EVENT_TYPES: ReadonlySet<string> = new Set([
  'room_joined',
  'room_left',
  'markers_moved',
  'notify_set',
] satisfies Array<ReaderEvent['type']>);

export function isReaderEvent(event: { type: string }): event is ReaderEvent {
  return READER_EVENT_TYPES.has(event.type);
}

/**
 * What a gateway must look at again after a state event: one room of a user (its counts, level,
 * whether it is still theirs), or, without `server_id`, which rooms are theirs at all.
 */
export interface ReaderTrigger {
  username: string;
  server_id?: number;
  /** A level set: known at once, before a message that follows it in the log. */
  notify?: NotifyLevel;
  /** The room is no longer theirs (left, removed): known at once, so that opening it joins again. */
  gone?: true;
}

/** Who reads: the user whose markers count, and who they are to the access checks. */
export interface Reader {
  username: string;
  /** From the credentials; null in open mode (a user named by `?username=`, public rooms only). */
  viewer: Viewer | null;
}

/** `PUT …/notify` answers the counts and the level. */
export type NotifyAnswer = UnreadCounts & { notify: NotifyLevel };
