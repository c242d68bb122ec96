/**
 * Rooms and who may see and manage them. A public room is open to every user; a private room to
 * its members and the admins; a direct message (DM) to its two members only, admins excluded.
 * The rules are pure functions of the room and the viewer, so storage (which answers) and the
 * events it applies (which must give the same result anywhere) use the same ones.
 */
import type { NotifyLevel } from './notify.ts';

export interface Room {
  id: number;
  /** null for a DM: it is named by its members. */
  name: string | null;
  created_at: string;
  private: boolean;
  dm: boolean;
  archived: boolean;
  /** Who may manage it besides the admins: its creator; null for DMs and rooms made before owners. */
  owner: string | null;
  /** DMs only: both members, sorted. */
  members?: string[];
  /** `GET /api/servers`: the caller's counts, marker and level (domain/unread.ts). */
  unread?: number;
  mentions?: number;
  last_read?: number;
  notify?: NotifyLevel;
}

/** Who asks, as the gateway resolved it from the credentials. Undefined: open mode (anonymous). */
export interface Viewer {
  username: string;
  admin: boolean;
}

/** Whether `viewer` may see the room, given whether they are one of its members. */
export function canSee(room: Room, viewer: Viewer | undefined, member: boolean): boolean {
  if (!room.private) return true;
  if (!viewer) return false;
  return member || (viewer.admin && !room.dm);
}

/** Whether `viewer` (who can see the room) may rename, archive it and manage its members. */
export function canManage(room: Room, viewer: Viewer): boolean {
  return !room.dm && (viewer.admin || (room.owner !== null && room.owner === viewer.username));
}

/**
 * Changes to rooms and memberships, as events applied in order (embedded mode: at once; NATS
 * mode: in stream order, see SCALE-OUT.md). Each carries everything its application needs, the
 * actor's admin flag included (from their credentials: in JWT mode storage has no other source),
 * and is checked again when applied, against the state as it then is.
 */
export type RoomStateEvent =
  | {
      type: 'room_created';
      /** Already in its stored form (names.ts). */
      name: string;
      private: boolean;
      /** The creator; null in open mode (nobody is known). */
      owner: string | null;
      by_admin: boolean;
      created_at: string;
    }
  | {
      type: 'room_updated';
      server_id: number;
      by: string;
      by_admin: boolean;
      name?: string;
      archived?: boolean;
      owner?: string;
      at: number;
    }
  | { type: 'member_added'; server_id: number; username: string; by: string; by_admin: boolean }
  | {
      type: 'member_removed';
      server_id: number;
      username: string;
      by: string;
      by_admin: boolean;
      at: number;
    }
  | { type: 'dm_opened'; usernames: [string, string]; created_at: string };

export const ROOM_EVENT_TYPES: ReadonlySet<string> = new Set([
  'room_created',
  'room_updated',
  'member_added',
  'member_removed',
  'dm_opened',
] satisfies Array<RoomStateEvent['type']>);

export function isRoomStateEvent(event: { type: string }): event is RoomStateEvent {
  return ROOM_EVENT_TYPES.has(event.type);
}

/** Why a room event was not applied (each is answered with its error code). */
export type RoomRefusal =
  | 'room_not_found'
  | 'room_name_taken'
  | 'user_not_found'
  | 'not_a_member'
  | 'forbidden'
  | 'public_room'
  | 'dm_with_oneself';

/** What `PATCH /api/servers/{id}` may change (at least one field). */
export interface RoomUpdate {
  name?: string;
  archived?: boolean;
  owner?: string;
}
