import type { AttachmentInfo, NewUpload } from '../../domain/attachments.ts';
import type { Message, Tombstone } from '../../domain/message.ts';
import type { Room, RoomUpdate, Viewer } from '../../domain/rooms.ts';
import type { NotifyLevel } from '../../domain/notify.ts';
import type { ReadMarker, Reader } from '../../domain/unread.ts';
import type { NatsLink } from '../../nats/connection.ts';
import type {
  HistoryOp,
  HistoryReply,
  HistoryRequest,
  HistoryStatus,
} from '../../nats/history-ops.ts';
import { askHistory } from './ask-history.ts';
import type { SearchPage, SearchRequest } from '../../domain/history.ts';
import type { HistoryClient, MessagePage, Replay, ReplayRequest } from '../types.ts';

/** Asks the history service (any member of its queue group) over NATS request/reply. */
export class NatsHistoryClient implements HistoryClient {
  constructor(
    private readonly link: NatsLink,
    private readonly timeoutMs: number,
  ) {}

  listRooms(viewer: Viewer | null, archived: boolean, reader?: string): Promise<Room[]> {
    return this.call('rooms', { viewer, archived, ...(reader !== undefined && { reader }) });
  }

  roomCount(): Promise<number> {
    return this.call('room_count', {});
  }

  async getRoom(id: number, viewer: Viewer | null): Promise<Room | undefined> {
    return (await this.call('room', { id, viewer })) ?? undefined;
  }

  createRoom(name: string, isPrivate: boolean, viewer: Viewer | null): Promise<Room> {
    return this.call('create_room', { name, private: isPrivate, viewer });
  }

  members(id: number, viewer: Viewer | null): Promise<string[]> {
    return this.call('members', { id, viewer });
  }

  addMember(id: number, username: string, viewer: Viewer | null) {
    return this.call('add_member', { id, username, viewer });
  }

  async removeMember(id: number, username: string, viewer: Viewer | null): Promise<void> {
    await this.call('remove_member', { id, username, viewer });
  }

  updateRoom(id: number, update: RoomUpdate, viewer: Viewer | null): Promise<Room> {
    return this.call('update_room', { id, update, viewer });
  }

  openDm(username: string, viewer: Viewer | null) {
    return this.call('open_dm', { username, viewer });
  }

  messages(page: MessagePage): Promise<Array<Message | Tombstone>> {
    return this.call('messages', page);
  }

  async message(serverId: number, id: number): Promise<Message | undefined> {
    return (await this.call('message', { serverId, id })) ?? undefined;
  }

  replay(request: ReplayRequest): Promise<Replay> {
    return this.call('replay', request);
  }

  recordUpload(upload: NewUpload, viewer: Viewer | null): Promise<AttachmentInfo> {
    return this.call('record_upload', { upload, viewer });
  }

  async attachment(id: string, viewer: Viewer | null, username: string | null) {
    return (await this.call('attachment', { id, viewer, username })) ?? undefined;
  }

  search(request: SearchRequest): Promise<SearchPage> {
    return this.call('search', request);
  }

  async isReady(): Promise<boolean> {
    try {
      return (await this.status()).writable;
    } catch {
      return false;
    }
  }

  async lag(): Promise<number> {
    return (await this.status()).lag;
  }

  unreadState(username: string, enter: number | undefined, after: number) {
    return this.call('unread_state', { username, enter: enter ?? null, after });
  }

  unreadCounts(pairs: ReadonlyArray<readonly [string, number]>, after: number) {
    return this.call('unread_counts', { pairs: pairs as Array<[string, number]>, after });
  }

  markRead(serverId: number, id: number, reader: Reader) {
    return this.call('mark_read', { server_id: serverId, id, reader });
  }

  async moveMarkers(markers: readonly ReadMarker[]): Promise<void> {
    await this.call('move_markers', { markers: [...markers] });
  }

  setNotify(serverId: number, level: NotifyLevel, reader: Reader) {
    return this.call('set_notify', { server_id: serverId, level, reader });
  }

  async leaveRoom(serverId: number, reader: Reader): Promise<void> {
    await this.call('leave_room', { server_id: serverId, reader });
  }

  mentionsOf(messages: ReadonlyArray<readonly [number, number]>, after: number) {
    return this.call('mentions_of', { messages: messages as Array<[number, number]>, after });
  }

  status(): Promise<HistoryStatus> {
    return this.call('status', {});
  }

  private call<Op extends HistoryOp>(
    op: Op,
    request: HistoryRequest<Op>,
  ): Promise<HistoryReply<Op>> {
    return askHistory(this.link, this.timeoutMs, op, request);
  }
}
