import type { AttachmentInfo, NewUpload } from '../domain/attachments.ts';
import type { Room, RoomUpdate, Viewer } from '../domain/rooms.ts';
import type { NotifyLevel } from '../domain/notify.ts';
import type { ReadMarker, Reader } from '../domain/unread.ts';
import type { HistoryClient, MessagePage, Replay, ReplayRequest } from '../bus/types.ts';
import type { SearchPage, SearchRequest } from '../domain/history.ts';
import { ChatError, UnavailableError } from '../errors.ts';
import type { AttachmentsService } from './attachments-service.ts';
import type { HistoryService } from './history-service.ts';
import type { ReadersService } from './readers-service.ts';
import type { RoomsService } from './rooms-service.ts';

/** The history client of embedded mode: direct calls into the in-process history service. */
export class EmbeddedHistoryClient implements HistoryClient {
  constructor(
    private readonly history: HistoryService,
    private readonly rooms: RoomsService,
    private readonly attachments: AttachmentsService,
    private readonly readers: ReadersService,
  ) {}

  listRooms(viewer: Viewer | null, archived: boolean, reader?: string): Promise<Room[]> {
    return this.call(() => {
      const rooms = this.rooms.listRooms(viewer, archived);
      return reader === undefined ? rooms : this.readers.withCounts(rooms, reader);
    });
  }

  roomCount(): Promise<number> {
    return this.call(() => this.rooms.roomCount());
  }

  getRoom(id: number, viewer: Viewer | null): Promise<Room | undefined> {
    return this.call(() => this.rooms.getRoom(id, viewer));
  }

  createRoom(name: string, isPrivate: boolean, viewer: Viewer | null): Promise<Room> {
    return this.rooms.createRoom(name, isPrivate, viewer);
  }

  members(id: number, viewer: Viewer | null): Promise<string[]> {
    return this.call(() => this.rooms.members(id, viewer));
  }

  addMember(id: number, username: string, viewer: Viewer | null) {
    return this.rooms.addMember(id, username, viewer);
  }

  removeMember(id: number, username: string, viewer: Viewer | null): Promise<void> {
    return this.rooms.removeMember(id, username, viewer);
  }

  updateRoom(id: number, update: RoomUpdate, viewer: Viewer | null): Promise<Room> {
    return this.rooms.updateRoom(id, update, viewer);
  }

  openDm(username: string, viewer: Viewer | null) {
    return this.rooms.openDm(username, viewer);
  }

  messages(page: MessagePage) {
    return this.call(() => this.history.messages(page));
  }

  message(serverId: number, id: number) {
    return this.call(() => this.history.message(serverId, id));
  }

  replay(request: ReplayRequest): Promise<Replay> {
    return this.call(() => this.history.replay(request));
  }

  recordUpload(upload: NewUpload, viewer: Viewer | null): Promise<AttachmentInfo> {
    return this.attachments.record(upload, viewer);
  }

  attachment(id: string, viewer: Viewer | null, username: string | null) {
    return this.call(() => this.attachments.readable(id, viewer, username));
  }

  search(request: SearchRequest): Promise<SearchPage> {
    return this.call(() => this.history.search(request));
  }

  isReady(): Promise<boolean> {
    return this.call(() => this.history.isWritable()).catch(() => false);
  }

  lag(): Promise<number> {
    return Promise.resolve(0);
  }

  unreadState(username: string, enter: number | undefined) {
    return this.readers.state(username, enter);
  }

  /** Embedded mode applies everything at once: `after` is always reached. */
  unreadCounts(pairs: ReadonlyArray<readonly [string, number]>) {
    return this.call(() => this.readers.counts(pairs));
  }

  markRead(serverId: number, id: number, reader: Reader) {
    return this.readers.markRead(serverId, id, reader);
  }

  moveMarkers(markers: readonly ReadMarker[]): Promise<void> {
    return this.readers.moveMarkers(markers);
  }

  setNotify(serverId: number, level: NotifyLevel, reader: Reader) {
    return this.readers.setNotify(serverId, level, reader);
  }

  leaveRoom(serverId: number, reader: Reader): Promise<void> {
    return this.readers.leave(serverId, reader);
  }

  mentionsOf(messages: ReadonlyArray<readonly [number, number]>) {
    return this.call(() => this.readers.mentionsOf(messages));
  }

  private call<T>(read: () => T): Promise<T> {
    try {
      return Promise.resolve(read());
    } catch (error) {
      if (error instanceof ChatError) return Promise.reject(error);
      return Promise.reject(new UnavailableError(undefined, { cause: error }));
    }
  }
}
