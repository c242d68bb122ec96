import { normalizeRoomName } from '../domain/names.ts';
import type { Room, RoomStateEvent, RoomUpdate, Viewer } from '../domain/rooms.ts';
import { ChatError, UnavailableError } from '../errors.ts';
import type { ApplyResult } from '../store/accounts-store.ts';
import type { RoomApplyResult, RoomsStore } from '../store/rooms-store.ts';
import { refusalError } from './refusals.ts';
import { storageCall } from './storage-call.ts';
import type { StateEventLog } from './state-log.ts';

/** Who asks: `null` is open mode's anonymous caller, who sees and manages public rooms only. */
export type Asker = Viewer | null;

const taken = (name: string): string =>
  `A room named "${name}" already exists (names that differ only in case or in lookalike ` +
  'characters, such as full-width letters or accents composed or decomposed, are one name)';

const NEEDS_SIGN_IN =
  'Private rooms, direct messages and room management need signed-in users ' +
  '(AUTH=accounts or AUTH=jwt); this server runs AUTH=open';

/**
 * The storage side of rooms: answers what a viewer may see, and turns every change (a room made,
 * renamed, archived, given an owner; a member added or removed; a DM opened) into one
 * `RoomStateEvent`, checked first against the stored state by the code that applies it, then
 * handed to the log (embedded: applied at once; NATS mode: published to the stream and applied
 * in stream order). Every room is made here, in both modes, so the name rules hold whoever asks.
 */
export class RoomsService {
  constructor(
    private readonly store: RoomsStore,
    private readonly log: StateEventLog,
    private readonly now: () => number = Date.now,
  ) {}

  listRooms(viewer: Asker, archived = false): Room[] {
    return this.store.list(viewer ?? undefined, archived);
  }

  getRoom(id: number, viewer: Asker): Room | undefined {
    return this.store.get(id, viewer ?? undefined);
  }

  roomCount(): number {
    return this.store.count();
  }

  async createRoom(requested: string, isPrivate: boolean, viewer: Asker): Promise<Room> {
    const name = normalizeRoomName(requested);
    if (name === undefined) throw new ChatError('invalid_room_name');
    if (isPrivate && !viewer) throw new ChatError('forbidden', NEEDS_SIGN_IN);
    const result = await this.change(
      {
        type: 'room_created',
        name,
        private: isPrivate,
        owner: viewer?.username ?? null,
        by_admin: viewer?.admin ?? false,
        created_at: new Date(this.now()).toISOString(),
      },
      name,
    );
    return result.room as Room;
  }

  /** A private room's members, sorted (a public room has none: everyone may read it). */
  members(id: number, viewer: Asker): string[] {
    const room = this.visible(id, viewer);
    if (!room.private) throw refusalError('public_room');
    return this.store.members(id);
  }

  async addMember(
    id: number,
    username: string,
    viewer: Asker,
  ): Promise<{ members: string[]; existed: boolean }> {
    const by = this.signedIn(viewer);
    const result = await this.change({
      type: 'member_added',
      server_id: id,
      username: this.stored(username),
      by: by.username,
      by_admin: by.admin,
    });
    return { members: result.members ?? [], existed: result.existed ?? false };
  }

  async removeMember(id: number, username: string, viewer: Asker): Promise<void> {
    const by = this.signedIn(viewer);
    await this.change({
      type: 'member_removed',
      server_id: id,
      username: this.stored(username),
      by: by.username,
      by_admin: by.admin,
      at: this.now(),
    });
  }

  async updateRoom(id: number, update: RoomUpdate, viewer: Asker): Promise<Room> {
    const by = this.signedIn(viewer);
    let name: string | undefined;
    if (update.name !== undefined) {
      name = normalizeRoomName(update.name);
      if (name === undefined) throw new ChatError('invalid_room_name');
    }
    const room = this.visible(id, by);
    if (room.dm && name !== undefined) {
      throw new ChatError('forbidden', 'A direct message has no name to change');
    }
    const result = await this.change(
      {
        type: 'room_updated',
        server_id: id,
        by: by.username,
        by_admin: by.admin,
        ...(name !== undefined && { name }),
        ...(update.archived !== undefined && { archived: update.archived }),
        ...(update.owner !== undefined && { owner: this.stored(update.owner) }),
        at: this.now(),
      },
      name,
    );
    return result.room as Room;
  }

  /** The DM of the caller and `username`, opened now unless it exists. */
  async openDm(username: string, viewer: Asker): Promise<{ room: Room; existed: boolean }> {
    const by = this.signedIn(viewer);
    const result = await this.change({
      type: 'dm_opened',
      usernames: [by.username, this.stored(username)],
      created_at: new Date(this.now()).toISOString(),
    });
    return { room: result.room as Room, existed: result.existed ?? false };
  }

  /** The user's name as stored, which gateways match against their sockets' usernames. */
  private stored(username: string): string {
    return this.read(() => this.store.userNamed(username)) ?? username;
  }

  private visible(id: number, viewer: Asker): Room {
    const room = this.read(() => this.store.get(id, viewer ?? undefined));
    if (!room) throw new ChatError('room_not_found', `No room with id ${id}`);
    return room;
  }

  private signedIn(viewer: Asker): Viewer {
    if (!viewer) throw new ChatError('forbidden', NEEDS_SIGN_IN);
    return viewer;
  }

  /**
   * Checks the event against the state now (so that a refused change never reaches the stream),
   * then hands it to the log; the verdict of its application, in log order, is the answer. A DM
   * that exists is answered from the check, with no event.
   */
  private async change(
    event: RoomStateEvent,
    name?: string,
  ): Promise<RoomApplyResult & { ok: true }> {
    const check = this.read(() => this.store.check(event));
    if (!check.ok) throw this.refused(check.refusal, name);
    if (event.type === 'dm_opened' && check.existed) return check;
    let result: ApplyResult;
    try {
      result = await this.log(event);
    } catch (error) {
      if (error instanceof ChatError) throw error;
      throw new UnavailableError(undefined, { cause: error });
    }
    if (!result.ok) throw this.refused(result.refusal, name);
    return result;
  }

  private refused(refusal: Parameters<typeof refusalError>[0], name?: string): ChatError {
    if (refusal === 'room_name_taken' && name !== undefined) {
      return new ChatError('room_name_taken', taken(name));
    }
    return refusalError(refusal);
  }

  private read<T>(work: () => T): T {
    return storageCall(work);
  }
}
