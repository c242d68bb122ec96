import type { StateEvent } from '../domain/access-events.ts';
import type { Mentions } from '../domain/mentions.ts';
import type { Message } from '../domain/message.ts';
import type { NotifyLevel } from '../domain/notify.ts';
import type { Room, Viewer } from '../domain/rooms.ts';
import type {
  NotifyAnswer,
  ReadMarker,
  Reader,
  RoomUnread,
  UnreadCounts,
} from '../domain/unread.ts';
import { ChatError } from '../errors.ts';
import type { ReadersStore } from '../store/readers-store.ts';
import type { RoomsStore } from '../store/rooms-store.ts';
import type { HistoryService } from './history-service.ts';
import { applyEvent, storageCall } from './storage-call.ts';
import type { StateEventLog } from './state-log.ts';

const PUBLIC_ONLY =
  'Only a public room is left this way; leave a private room with DELETE /api/servers/{id}/members/{username}';

/**
 * The storage side of read markers, unread counts, notification levels and joined public rooms.
 * Reads come from the store; every change is a `ReaderEvent`, made only when it changes
 * something (a marker that would not move makes none) and handed to the log (embedded: applied at
 * once; NATS mode: published to the stream and applied in stream order).
 */
export class ReadersService {
  constructor(
    private readonly store: ReadersStore,
    private readonly rooms: RoomsStore,
    private readonly log: StateEventLog,
    /** A message of a room as REST shows it (undefined: unknown or deleted). */
    private readonly message: (serverId: number, id: number) => Message | undefined,
  ) {}

  /** The service over a history service's store, its changes handed to `log`. */
  static over(history: HistoryService, log: StateEventLog): ReadersService {
    return new ReadersService(history.readers, history.rooms, log, (serverId, id) =>
      history.message(serverId, id),
    );
  }

  /** The rooms with the reader's counts, marker and level (`GET /api/servers`). */
  withCounts(rooms: Room[], username: string): Room[] {
    return this.read(() =>
      rooms.map((room) => {
        const { unread, mentions, last_read } = this.store.counts(username, room);
        return {
          ...room,
          unread,
          mentions,
          last_read,
          notify: this.store.level(username, room.id),
        };
      }),
    );
  }

  /**
   * The user's rooms with their counts. `enter`: a room the user opens now: a public one joins
   * their rooms (and, in open mode, the user becomes known) unless it is theirs already.
   */
  async state(username: string, enter?: number): Promise<RoomUnread[]> {
    if (enter !== undefined) {
      const room = this.read(() => this.rooms.get(enter, 'anyone'));
      if (room && !room.private && !this.read(() => this.store.counted(username, room))) {
        await this.apply({ type: 'room_joined', server_id: enter, username });
      }
    }
    return this.read(() => this.store.userRooms(username));
  }

  /** Each (user, room)'s counts, or null where the room is not one of the user's. */
  counts(pairs: ReadonlyArray<readonly [string, number]>): Array<RoomUnread | null> {
    return this.read(() => {
      // a batch is mostly a few rooms' members: each room is read once
      const rooms = new Map<number, Room | undefined>();
      return pairs.map(([username, serverId]) => {
        if (!rooms.has(serverId)) rooms.set(serverId, this.rooms.get(serverId, 'anyone'));
        const room = rooms.get(serverId);
        return (room && this.store.roomUnread(username, room)) ?? null;
      });
    });
  }

  /** `PUT …/read`: moves the marker (forward only) and joins a public room. */
  async markRead(serverId: number, id: number, reader: Reader): Promise<UnreadCounts> {
    const room = this.visible(serverId, reader.viewer);
    const { username } = reader;
    const joins = !room.private && !this.read(() => this.store.counted(username, room));
    if (joins || this.read(() => this.wouldMove(username, room, id))) {
      await this.apply({
        type: 'markers_moved',
        markers: [{ server_id: serverId, username, id }],
        join: true,
      });
    }
    return this.read(() => this.store.counts(username, room));
  }

  /** `read` frames (a gateway's, collected): each marker that would move, in one event. */
  async moveMarkers(markers: readonly ReadMarker[]): Promise<void> {
    const moving = this.read(() =>
      markers.filter((marker) => {
        const room = this.rooms.get(marker.server_id, 'anyone');
        return room !== undefined && this.wouldMove(marker.username, room, marker.id);
      }),
    );
    if (moving.length > 0)
      await this.apply({ type: 'markers_moved', markers: moving, join: false });
  }

  async setNotify(serverId: number, level: NotifyLevel, reader: Reader): Promise<NotifyAnswer> {
    const room = this.visible(serverId, reader.viewer);
    const { username } = reader;
    if (this.read(() => this.store.level(username, serverId)) !== level) {
      await this.apply({ type: 'notify_set', server_id: serverId, username, level });
    }
    return this.read(() => ({ ...this.store.counts(username, room), notify: level }));
  }

  /** `DELETE …/membership`: a public room stays readable but is no longer counted. */
  async leave(serverId: number, reader: Reader): Promise<void> {
    const room = this.visible(serverId, reader.viewer);
    if (room.private) throw new ChatError('bad_request', PUBLIC_ONLY);
    if (this.read(() => this.store.counted(reader.username, room))) {
      await this.apply({ type: 'room_left', server_id: serverId, username: reader.username });
    }
  }

  /** The mentions of stored messages (null: unknown or deleted). */
  mentionsOf(messages: ReadonlyArray<readonly [number, number]>): Array<Mentions | null> {
    return this.read(() =>
      messages.map(([serverId, id]) => {
        const message = this.message(serverId, id);
        if (!message) return null;
        return { mentions: message.mentions ?? [], mention_room: message.mention_room ?? false };
      }),
    );
  }

  private wouldMove(username: string, room: Room, id: number): boolean {
    const newest = this.store.newest(room.id);
    return Math.min(id, newest) > this.store.marker(username, room.id);
  }

  private visible(id: number, viewer: Viewer | null): Room {
    const room = this.read(() => this.rooms.get(id, viewer ?? undefined));
    if (!room) throw new ChatError('room_not_found', `No room with id ${id}`);
    return room;
  }

  private apply(event: StateEvent): Promise<void> {
    return applyEvent(this.log, event);
  }

  private read<T>(work: () => T): T {
    return storageCall(work);
  }
}
