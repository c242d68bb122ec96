/**
 * The history operations of read markers, unread counts, notification levels and mentions (see
 * history-ops.ts, which takes them into its table): each one's request and reply, and their
 * checks.
 */
import type { Mentions } from '../domain/mentions.ts';
import { isNotifyLevel } from '../domain/notify.ts';
import type { NotifyLevel } from '../domain/notify.ts';
import type { Viewer } from '../domain/rooms.ts';
import type {
  NotifyAnswer,
  ReadMarker,
  Reader,
  RoomUnread,
  UnreadCounts,
} from '../domain/unread.ts';
import { arrayOf, isBoolean, isInteger, isString, nullable, objectOf, tupleOf } from './guards.ts';
import type { Guard } from './guards.ts';

export interface ReaderOps {
  /**
   * The user's rooms with counts, once applied up to `after`; `enter`: a room they open now (a
   * public one joins).
   */
  unread_state: {
    request: { username: string; enter: number | null; after: number };
    reply: RoomUnread[];
  };
  unread_counts: {
    request: { pairs: Array<[string, number]>; after: number };
    reply: Array<RoomUnread | null>;
  };
  mark_read: { request: { server_id: number; id: number; reader: Reader }; reply: UnreadCounts };
  move_markers: { request: { markers: ReadMarker[] }; reply: null };
  set_notify: {
    request: { server_id: number; level: NotifyLevel; reader: Reader };
    reply: NotifyAnswer;
  };
  leave_room: { request: { server_id: number; reader: Reader }; reply: null };
  /** Answered once the history service applied the stream up to `after`. */
  mentions_of: {
    request: { messages: Array<[number, number]>; after: number };
    reply: Array<Mentions | null>;
  };
}

type Checks = {
  [Op in keyof ReaderOps]: {
    request: Guard<ReaderOps[Op]['request']>;
    reply: Guard<ReaderOps[Op]['reply']>;
  };
};

const isNull = (value: unknown): value is null => value === null;
const isReader = objectOf<Reader>({
  username: isString,
  viewer: nullable(objectOf<Viewer>({ username: isString, admin: isBoolean })),
});
const countFields = {
  server_id: isInteger,
  unread: isInteger,
  mentions: isInteger,
  last_read: isInteger,
};
const isCounts = objectOf<UnreadCounts>(countFields);
const isRoomUnread = objectOf<RoomUnread>({ ...countFields, notify: isNotifyLevel, dm: isBoolean });

export const READER_CHECKS: Checks = {
  unread_state: {
    request: objectOf<{ username: string; enter: number | null; after: number }>({
      username: isString,
      enter: nullable(isInteger),
      after: isInteger,
    }),
    reply: arrayOf(isRoomUnread),
  },
  unread_counts: {
    request: objectOf<{ pairs: Array<[string, number]>; after: number }>({
      pairs: arrayOf(tupleOf<[string, number]>(isString, isInteger)),
      after: isInteger,
    }),
    reply: arrayOf(nullable(isRoomUnread)),
  },
  mark_read: {
    request: objectOf<{ server_id: number; id: number; reader: Reader }>({
      server_id: isInteger,
      id: isInteger,
      reader: isReader,
    }),
    reply: isCounts,
  },
  move_markers: {
    request: objectOf<{ markers: ReadMarker[] }>({
      markers: arrayOf(
        objectOf<ReadMarker>({ server_id: isInteger, username: isString, id: isInteger }),
      ),
    }),
    reply: isNull,
  },
  set_notify: {
    request: objectOf<{ server_id: number; level: NotifyLevel; reader: Reader }>({
      server_id: isInteger,
      level: isNotifyLevel,
      reader: isReader,
    }),
    reply: objectOf<NotifyAnswer>({ ...countFields, notify: isNotifyLevel }),
  },
  leave_room: {
    request: objectOf<{ server_id: number; reader: Reader }>({
      server_id: isInteger,
      reader: isReader,
    }),
    reply: isNull,
  },
  mentions_of: {
    request: objectOf<{ messages: Array<[number, number]>; after: number }>({
      messages: arrayOf(tupleOf<[number, number]>(isInteger, isInteger)),
      after: isInteger,
    }),
    reply: arrayOf(
      nullable(objectOf<Mentions>({ mentions: arrayOf(isString), mention_room: isBoolean })),
    ),
  },
};
